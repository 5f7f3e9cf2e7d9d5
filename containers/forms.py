"""The console's deployment forms: create, edit (with the rollout strategy), scale.

They parse what people type (``0.25`` cores, ``128m``, a one-line command, ``KEY=VALUE`` lines)
with the same parsers the API uses; ``containers.deployments`` decides everything that depends on
the state of the world (a name already taken, room on the host) and its refusals are shown at the
field they name.

Env values are secrets: the edit form never renders the stored ones. An empty env box on edit
keeps the current values; "clear" removes them all.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import Q

from containers import strategy
from containers.limits import replicas_problem
from containers.models import Deployment, Image
from containers.names import validate_name
from orchestrator_site.units import format_memory, parse_cpu, parse_memory
from tenancy.models import Organization

_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_env(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines -> a dict; blank lines and ``#`` comments are skipped, a value may contain ``=``."""
    env: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _ENV_KEY.match(key):
            raise forms.ValidationError(f"line {number}: expected NAME=value with a name like API_URL")
        if key in env:
            raise forms.ValidationError(f"line {number}: {key} is set twice")
        env[key] = value
    return env


def check_replicas(value: int) -> None:
    problem = replicas_problem(value)
    if problem:
        raise forms.ValidationError(problem)


class DeploymentForm(forms.Form):
    """Create a deployment; :class:`DeploymentEditForm` drops the name and keeps secrets out of the page."""

    # Checked by validate_name alone, so a bad name gets one message in plain words (not also
    # Django's "Ensure this value has at most 63 characters").
    name = forms.CharField(
        validators=[validate_name],
        help_text=(
            "Lowercase letters, digits and dashes, starting and ending with a letter or digit, "
            "at most 63 characters; names its containers. Cannot be changed later."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "web", "maxlength": 63, "spellcheck": "false"}
        ),
    )
    image = forms.ModelChoiceField(queryset=Image.objects.order_by("reference"), empty_label="Choose an image…")
    replicas = forms.IntegerField(min_value=0, initial=1, validators=[check_replicas])
    cpu_limit = forms.CharField(
        label="CPU limit",
        help_text="Cores per container, e.g. 0.25.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    memory_limit = forms.CharField(label="Memory limit", help_text="Per container: 64m, 512m, 1g (at least 6m).")
    container_port = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=65535,
        help_text="The port the app listens on inside the container; published on 127.0.0.1.",
    )
    command = forms.CharField(
        required=False,
        max_length=4096,
        help_text="One line, split like a shell would; empty runs the image's own command.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    env = forms.CharField(
        label="Environment",
        required=False,
        strip=False,
        max_length=65536,
        help_text="One NAME=value per line. Values are secrets: never shown again.",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
    )
    restart_policy = forms.ChoiceField(
        choices=Deployment.RestartPolicy.choices,
        initial=Deployment.RestartPolicy.NO,
        help_text="Docker's own policy; the reconciler replaces dead containers either way.",
    )

    def __init__(self, *args: Any, organization: Organization | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cpu_limit"].initial = settings.DEFAULT_CPU_LIMIT
        self.fields["memory_limit"].initial = format_memory(settings.DEFAULT_MEMORY_LIMIT)
        if organization is not None:
            # Only the images this organization may deploy: its own and the shared ones.
            image = cast(forms.ModelChoiceField, self.fields["image"])
            mine = Q(organization=organization) | Q(organization__isnull=True)
            image.queryset = Image.objects.order_by("reference").filter(mine)

    def clean_cpu_limit(self) -> Any:
        try:
            return parse_cpu(self.cleaned_data["cpu_limit"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_memory_limit(self) -> int:
        try:
            return parse_memory(self.cleaned_data["memory_limit"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_command(self) -> list[str]:
        try:
            return shlex.split(self.cleaned_data["command"])
        except ValueError as exc:
            raise forms.ValidationError(f"cannot split the command: {exc}") from None

    def clean_env(self) -> dict[str, str]:
        return parse_env(self.cleaned_data["env"])

    def values(self) -> dict[str, Any]:
        """The cleaned data under the model's field names, as ``create_deployment`` takes them."""
        data = dict(self.cleaned_data)
        data["memory_limit_bytes"] = data.pop("memory_limit")
        return data


def strategy_field(name: str, label: str, *, decimal: bool = False) -> forms.Field:
    """A rollout strategy field with the API's bounds (containers.strategy) and the model's help text."""
    low, high = strategy.BOUNDS[name]
    help_text = str(getattr(Deployment._meta.get_field(name), "help_text", ""))
    # Optional: a form posted without them (an older page) keeps the deployment's values.
    if decimal:
        return forms.FloatField(label=label, min_value=low, max_value=high, help_text=help_text, required=False)
    return forms.IntegerField(label=label, min_value=low, max_value=high, help_text=help_text, required=False)


class DeploymentEditForm(DeploymentForm):
    """Change a deployment. The name stays; an empty env box keeps the stored values (never rendered)."""

    clear_env = forms.BooleanField(
        label="Remove every environment variable", required=False, help_text="Ignored if the box above is filled."
    )
    # The rollout strategy: what the API's PATCH takes, with the same bounds and the same refusals.
    max_surge = strategy_field("max_surge", "Max surge")
    max_unavailable = strategy_field("max_unavailable", "Max unavailable")
    min_ready_seconds = strategy_field("min_ready_seconds", "Min ready (s)")
    progress_deadline_s = strategy_field("progress_deadline_s", "Progress deadline (s)")
    drain_timeout_s = strategy_field("drain_timeout_s", "Drain timeout (s)", decimal=True)
    stop_grace_s = strategy_field("stop_grace_s", "Stop grace (s)")
    # A choice, not a checkbox: an absent checkbox reads as "off", an absent choice as "unchanged".
    auto_rollback = forms.TypedChoiceField(
        label="Automatic rollback",
        choices=[("true", "On"), ("false", "Off")],
        coerce=lambda value: value == "true",
        empty_value=None,
        required=False,
        help_text="A failed rollout (crash loop, missed deadline) returns to the last revision that completed.",
    )

    def __init__(self, *args: Any, deployment: Deployment, **kwargs: Any) -> None:
        kwargs.setdefault("initial", initial_for(deployment))
        kwargs.setdefault("organization", deployment.organization)
        super().__init__(*args, **kwargs)
        self.deployment = deployment
        del self.fields["name"]
        self.env_keys = sorted(deployment.env)
        env = self.fields["env"]
        if self.env_keys:
            env.help_text = "Set now: " + ", ".join(self.env_keys) + ". Leave empty to keep the current values."
        else:
            env.help_text = "One NAME=value per line. Values are secrets: never shown again."
            del self.fields["clear_env"]

    def clean(self) -> dict[str, Any]:
        """A rollout must be able to move: the API's refusal, at the field being changed."""
        data = super().clean() or {}
        posted = {name: data[name] for name in ("max_surge", "max_unavailable") if data.get(name) is not None}
        changed = {name: value for name, value in posted.items() if value != getattr(self.deployment, name)}
        surge = posted.get("max_surge", self.deployment.max_surge)
        unavailable = posted.get("max_unavailable", self.deployment.max_unavailable)
        if field := strategy.stall_field(changed, surge, unavailable):
            self.add_error(field, strategy.STALLED)
        return data

    def changes(self) -> dict[str, Any]:
        """The values to give ``update_deployment``: env only when it is replaced or cleared."""
        data = self.values()
        for name in strategy.FIELDS:
            if data.get(name) is None:
                data.pop(name, None)  # not posted: unchanged
        clear = data.pop("clear_env", False)
        if not data["env"] and not clear:
            del data["env"]
        return data


def initial_for(deployment: Deployment) -> dict[str, Any]:
    """The edit form's starting values: everything but the env values."""
    return {
        "image": deployment.image_id,
        "replicas": deployment.replicas,
        "cpu_limit": f"{deployment.cpu_limit.normalize():f}",
        "memory_limit": format_memory(deployment.memory_limit_bytes),
        "container_port": deployment.container_port,
        "command": shlex.join(deployment.command),
        "restart_policy": deployment.restart_policy,
        **{name: getattr(deployment, name) for name in strategy.BOUNDS},
        "auto_rollback": "true" if deployment.auto_rollback else "false",
    }


class ScaleForm(forms.Form):
    """Set the replicas: a number, or a step of -1 / +1 from the current value (the +/- buttons)."""

    replicas = forms.IntegerField(min_value=0, required=False, validators=[check_replicas])
    step = forms.TypedChoiceField(choices=[("-1", "-1"), ("1", "+1")], coerce=int, required=False, empty_value=None)

    def target(self, current: int) -> int:
        step = self.cleaned_data.get("step")
        if step is not None:
            return max(0, current + step)
        replicas = self.cleaned_data.get("replicas")
        return current if replicas is None else replicas
