"""Console pages for alert rules, autoscalers and probes (list, create and edit with a preview, delete),
validated by the same serializers as their API (containers.views.resource_pages) and saved by the same
action functions (health.rules), so each change is an event of its user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.utils import timezone
from rest_framework import serializers

from containers.models import Container, Deployment
from containers.views.resource_pages import Column, Field, Resource
from health import alerts, autoscale, rules
from health.api import rule_serializers
from health.models import AlertRule, Autoscaler, Probe
from health.rules import Rule
from tenancy.access import Access
from tenancy.scope import scope


def saver(model: type[Rule]) -> Callable[[serializers.Serializer[Any], Rule | None, str], Rule]:
    """Save a validated form through the rule's action functions (each change an event), as the API does."""

    def save(serializer: serializers.Serializer[Any], instance: Rule | None, actor: str) -> Rule:
        if instance is None:
            return rules.create_rule(model, actor=actor, **serializer.validated_data)
        return rules.update_rule(instance, actor=actor, **serializer.validated_data)

    return save


def deleter(row: Any, actor: str) -> None:
    rules.delete_rule(row, actor=actor)


def deployment_choices(who: Access) -> list[tuple[str, str]]:
    """The caller's deployments only: another organization's names never reach the page."""
    names = scope(Deployment.objects.all(), who).order_by("name").values_list("name", flat=True)
    return [(name, name) for name in names]


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, f"{kind} — {meaning}") for kind, meaning in sorted(alerts.KINDS.items())]


def on_off(enabled: bool) -> str:
    return "on" if enabled else "off"


# --- alert rules -------------------------------------------------------------------------


def alert_rule_preview(data: dict[str, Any], instance: AlertRule | None) -> list[str]:
    kinds = ", ".join(data.get("event_kinds") or getattr(instance, "event_kinds", []))
    scope = data.get("deployment", getattr(instance, "deployment", None))
    channels = []
    if url := data.get("webhook_url", getattr(instance, "webhook_url", "")):
        channels.append(f"a POST to {url}")
    if emails := data.get("emails", getattr(instance, "emails", [])):
        channels.append("an email to " + ", ".join(emails))
    cooldown = data.get("cooldown_s", getattr(instance, "cooldown_s", 300))
    enabled = data.get("enabled", getattr(instance, "enabled", True))
    return [
        f"On {kinds}, for {f'deployment {scope.name}' if scope else 'every deployment'}: "
        + " and ".join(channels)
        + ".",
        f"At most one alert every {cooldown} s per deployment.",
        "Enabled: alerts start with the next matching event."
        if enabled
        else "Disabled: nothing is sent until enabled.",
    ]


ALERT_RULES = Resource(
    slug="alert-rules",
    title="Alert rules",
    singular="alert rule",
    intro="Who hears about deaths, crash loops, failed probes and critical containers, by webhook or email.",
    queryset=lambda: AlertRule.objects.select_related("deployment").order_by("name", "id"),
    serializer=rule_serializers.AlertRuleSerializer,
    fields=(
        Field("name", "Name", help="What the alert says it is, e.g. “web down”."),
        Field("event_kinds", "Alert on", "multiple", help="At least one.", choices=kind_choices),
        Field(
            "deployment",
            "Deployment",
            "select",
            "Empty: every deployment.",
            choices_for=deployment_choices,
            optional=True,
        ),
        Field("webhook_url", "Webhook URL", help="Receives a JSON POST; http(s) on 127.0.0.1 only.", optional=True),
        Field("emails", "Email addresses", "lines", "One a line.", optional=True),
        Field("cooldown_s", "Cooldown (s)", "number", "The least time between two alerts for one deployment."),
        Field("enabled", "Enabled", "checkbox"),
    ),
    columns=(
        Column("Name", lambda rule: rule.name),
        Column("Alert on", lambda rule: ", ".join(rule.event_kinds)),
        Column("Deployment", lambda rule: rule.deployment.name if rule.deployment else "every one"),
        Column("Sends to", lambda rule: ", ".join(filter(None, [rule.webhook_url, *rule.emails]))),
        Column("Enabled", lambda rule: on_off(rule.enabled)),
    ),
    empty="No alert rules yet: nobody is told when a container dies.",
    preview=alert_rule_preview,
    label_of=lambda rule: rule.name,
    save=saver(AlertRule),
    delete=deleter,
)


# --- autoscalers -------------------------------------------------------------------------


def autoscaler_preview(data: dict[str, Any], instance: Autoscaler | None) -> list[str]:
    values = {
        key: data.get(key, getattr(instance, key, None))
        for key in ("deployment", "min_replicas", "max_replicas", "target_cpu_pct", "stabilization_s")
    }
    deployment = cast(Deployment, values["deployment"])  # the serializer requires it
    probe = Autoscaler(
        deployment=deployment,
        **{key: value for key, value in values.items() if key != "deployment" and value is not None},
    )
    lines = [
        f"Keeps {deployment.name} between {probe.min_replicas} and {probe.max_replicas} replicas, "
        f"aiming at {probe.target_cpu_pct:g} % CPU per container."
    ]
    average = autoscale.average_cpu(probe, timezone.now())
    if average is None:
        lines.append(
            f"No CPU samples of its running containers in the last {probe.stabilization_s} s: nothing to decide yet."
        )
    else:
        wanted = autoscale.recommend(
            deployment.replicas, average, probe.target_cpu_pct, probe.min_replicas, probe.max_replicas
        )
        verdict = "no change" if wanted == deployment.replicas else f"scale to {wanted}"
        lines.append(
            f"Now: {deployment.replicas} replica{'s' if deployment.replicas != 1 else ''} at {average:.1f} % CPU "
            f"on average → {verdict}."
        )
    lines.append(f"Scales down only after {probe.stabilization_s} s without a higher recommendation.")
    return lines


AUTOSCALERS = Resource(
    slug="autoscalers",
    title="Autoscalers",
    singular="autoscaler",
    intro="Replica counts that follow CPU use, within bounds; one autoscaler per deployment.",
    queryset=lambda: Autoscaler.objects.select_related("deployment").order_by("deployment__name"),
    serializer=rule_serializers.AutoscalerSerializer,
    fields=(
        Field("deployment", "Deployment", "select", choices_for=deployment_choices),
        Field("min_replicas", "Fewest replicas", "number"),
        Field("max_replicas", "Most replicas", "number"),
        Field("target_cpu_pct", "Target CPU %", "number", "Per container, of its CPU limit (1 to 100)."),
        Field("stabilization_s", "Scale-down delay (s)", "number", "How long a lower figure must hold first."),
        Field("enabled", "Enabled", "checkbox"),
    ),
    columns=(
        Column("Deployment", lambda a: a.deployment.name),
        Column("Replicas", lambda a: f"{a.min_replicas} to {a.max_replicas}"),
        Column("Target CPU", lambda a: f"{a.target_cpu_pct:g} %"),
        Column("Scale-down delay", lambda a: f"{a.stabilization_s} s"),
        Column("Enabled", lambda a: on_off(a.enabled)),
    ),
    empty="No autoscalers: every deployment keeps the replicas it was given.",
    preview=autoscaler_preview,
    label_of=lambda a: f"of {a.deployment.name}",
    save=saver(Autoscaler),
    delete=deleter,
)


# --- probes ------------------------------------------------------------------------------


def running_count(deployment: Deployment) -> int:
    return Container.objects.filter(deployment=deployment, status=Container.Status.RUNNING).count()


def probe_preview(data: dict[str, Any], instance: Probe | None) -> list[str]:
    def value(key: str, default: Any) -> Any:
        return data.get(key, getattr(instance, key, default))

    deployment: Deployment = value("deployment", None)
    kind, kind_of = value("kind", "liveness"), value("type", "http")
    target = (
        f"GET {value('path', '/') or '/'} expecting {value('expected_status', 200)}"
        if kind_of == "http"
        else "a TCP connect"
    )
    port = "its published port" if deployment.container_port else "no port: the deployment publishes none, so it fails"
    consequence = "restarts the container" if kind == "liveness" else "marks its service endpoint unhealthy"
    return [
        f"Every {value('period_s', 10.0):g} s, {target} on each running container of {deployment.name} "
        f"(now {running_count(deployment)}), through {port}, with a {value('timeout_s', 1.0):g} s timeout.",
        f"{value('failure_threshold', 3)} failures in a row {consequence}.",
    ]


PROBES = Resource(
    slug="probes",
    title="Probes",
    singular="probe",
    intro="Checks run against each running container: a failed liveness probe restarts it, readiness marks it.",
    queryset=lambda: Probe.objects.select_related("deployment").order_by("deployment__name", "kind"),
    serializer=rule_serializers.ProbeSerializer,
    fields=(
        Field("deployment", "Deployment", "select", choices_for=deployment_choices),
        Field("kind", "Kind", "select", choices=lambda: Probe.Kind.choices),
        Field("type", "Check", "select", choices=lambda: Probe.Type.choices),
        Field("path", "Path", help="HTTP only; starts with /."),
        Field("expected_status", "Expected status", "number", "HTTP only."),
        Field("timeout_s", "Timeout (s)", "number"),
        Field("period_s", "Every (s)", "number"),
        Field("failure_threshold", "Failures in a row", "number"),
        Field("enabled", "Enabled", "checkbox"),
    ),
    columns=(
        Column("Deployment", lambda p: p.deployment.name),
        Column("Kind", lambda p: p.kind),
        Column("Check", lambda p: f"GET {p.path} → {p.expected_status}" if p.type == "http" else "TCP connect"),
        Column("Every", lambda p: f"{p.period_s:g} s (timeout {p.timeout_s:g} s)"),
        Column("Fails after", lambda p: p.failure_threshold),
        Column("Enabled", lambda p: on_off(p.enabled)),
    ),
    empty="No probes: containers count as healthy while they run.",
    preview=probe_preview,
    label_of=lambda p: f"{p.kind} of {p.deployment.name}",
    save=saver(Probe),
    delete=deleter,
)
