"""Alerts: rules matched against the event log, delivered by webhook (JSON POST) and email.

A beat task scans the events newer than a stored cursor (their id), so nothing that writes an
event needs to know about alerts, and a delivery that is slow never holds up the writer. A rule
is quiet for ``cooldown_s`` per deployment after a delivery; a suppressed match is recorded too.

Webhooks go through ``orchestrator_site.outbound``: the URL's host is resolved and refused when it
is loopback, link-local (metadata), private, multicast or reserved unless ``WEBHOOK_ALLOWED_NETWORKS``
allows it; the checked address is the one connected to; no redirects, no proxy, a capped read and
one total deadline (``WEBHOOK_DEADLINE_S``), always outside a transaction.
"""

from __future__ import annotations

import http.client
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from containers.models import Event
from health.models import AlertCursor, AlertDelivery, AlertRule
from orchestrator_site import addresses, outbound

CURSOR = "alerts"
RESOLVE_TIMEOUT_S = 2.0

# The alert kinds a rule can ask for, and what each matches.
KINDS = {
    "class.warning": "a container's class changed to warning",
    "class.critical": "a container's class changed to critical",
    "container.died": "a container died",
    "deployment.backoff": "a deployment entered crash-loop backoff",
    "probe.failed": "a probe failed failure_threshold times in a row",
    "probe.restart": "a liveness probe restarted a container",
}


def alert_kind(event_kind: str, after: Any) -> str | None:
    """The alert kind an event is, if any (``health.class_changed`` by the class it changed to)."""
    if event_kind == "health.class_changed":
        new_class = after.get("class") if isinstance(after, dict) else None
        return f"class.{new_class}" if new_class in ("warning", "critical") else None
    return event_kind if event_kind in KINDS else None


def cooled_down(last_sent_at: datetime | None, now: datetime, cooldown_s: float) -> bool:
    """Whether a rule may deliver again: nothing sent yet, or the last delivery is ``cooldown_s`` old."""
    return last_sent_at is None or now - last_sent_at >= timedelta(seconds=cooldown_s)


def allowed_networks() -> list[addresses.IPNetwork]:
    """The operator's exceptions to the address policy (``WEBHOOK_ALLOWED_NETWORKS``)."""
    return addresses.parse_networks(settings.WEBHOOK_ALLOWED_NETWORKS)


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` can't be a webhook, or None: only http(s), and not to an IP address (or ``localhost``)
    that is loopback, link-local, private, multicast or reserved unless allow-listed. A host name is
    not resolved here (its answer may change anyway): every delivery resolves it, checks every
    address and connects to the checked one."""
    try:
        target = outbound.parse(url)
        if target.host == "localhost" or target.host.endswith(".localhost"):
            outbound.checked_address("127.0.0.1", target.port, allowed_networks(), RESOLVE_TIMEOUT_S)
        else:
            outbound.checked_literal(target.host, allowed_networks())
    except outbound.Refused as exc:
        return str(exc)
    return None


def payload(event: Event, rule: AlertRule, kind: str) -> dict[str, Any]:
    """The JSON a webhook receives."""
    return {
        "rule": {"id": rule.pk, "name": rule.name},
        "alert": kind,
        "event": {
            "id": event.pk,
            "kind": event.kind,
            "created_at": event.created_at.isoformat(),
            "actor": event.actor,
            "message": event.message,
            "deployment": event.deployment.name if event.deployment else None,
            "container": event.container_docker_id or None,
            "before": event.before,
            "after": event.after,
        },
    }


def post_webhook(url: str, body: dict[str, Any]) -> tuple[int | None, str]:
    """POST ``body`` as JSON under the address policy and one total deadline; (response code, error or "").

    Never inside a transaction: a receiver that answers slowly holds nothing but this call.
    """
    try:
        answer = outbound.request(
            url,
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "orchestrator-alerts"},
            deadline_s=settings.WEBHOOK_DEADLINE_S,
            allowed=allowed_networks(),
        )
    except outbound.Refused as exc:
        return None, f"refused: {exc}"[:500]
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 300 <= answer.status < 400:
        return answer.status, f"HTTP {answer.status}: redirects are not followed"
    if not 200 <= answer.status < 300:
        return answer.status, f"HTTP {answer.status}"
    return answer.status, ""


def rules_for(kind: str, event: Event, rules: list[AlertRule]) -> list[AlertRule]:
    return [
        rule
        for rule in rules
        # A rule only ever sees its own organization's events, whether it names a deployment or not.
        if kind in rule.event_kinds
        and rule.organization_id == event.organization_id
        and (rule.deployment_id is None or rule.deployment_id == event.deployment_id)
    ]


def last_sent(rule: AlertRule, deployment_id: int | None) -> datetime | None:
    """When the rule last delivered (or began delivering) for the deployment: the cooldown's start."""
    sent = AlertDelivery.objects.filter(rule=rule, status__in=[AlertDelivery.Status.SENT, AlertDelivery.Status.PENDING])
    # An event without a deployment is cooled down with the others without one.
    sent = sent.filter(deployment__isnull=True) if deployment_id is None else sent.filter(deployment_id=deployment_id)
    return sent.order_by("-at").values_list("at", flat=True).first()


def claim(
    rule: AlertRule, event: Event, kind: str, now: datetime, claimed: set[tuple[int, int | None]]
) -> list[AlertDelivery]:
    """Rows for one matched event on each of the rule's channels: ``pending`` (to send once the
    transaction is over) or ``suppressed`` by the cooldown. ``claimed`` holds the (rule, deployment)
    pairs this scan already claimed, which cool down like a delivery."""
    common = {"rule": rule, "event": event, "deployment_id": event.deployment_id}
    channels = ([AlertDelivery.Channel.WEBHOOK] if rule.webhook_url else []) + (
        [AlertDelivery.Channel.EMAIL] if rule.emails else []
    )
    key = (rule.pk, event.deployment_id)
    cooling = key in claimed or not cooled_down(last_sent(rule, event.deployment_id), now, rule.cooldown_s)
    claimed.add(key)
    status = AlertDelivery.Status.SUPPRESSED if cooling else AlertDelivery.Status.PENDING
    targets = {
        AlertDelivery.Channel.WEBHOOK: rule.webhook_url,
        AlertDelivery.Channel.EMAIL: ", ".join(rule.emails)[:500],
    }
    return [
        AlertDelivery.objects.create(**common, channel=channel, target=targets[channel], status=status, at=now)
        for channel in channels
    ]


def send(delivery: AlertDelivery, kind: str, body: dict[str, Any]) -> AlertDelivery:
    """Make one pending delivery of ``body`` over the network (no database access: it runs in a thread)."""
    rule, event = delivery.rule, delivery.event
    if delivery.channel == AlertDelivery.Channel.WEBHOOK:
        code, error = post_webhook(rule.webhook_url, body)
        delivery.response_code = code
        delivery.error = error
        delivery.status = AlertDelivery.Status.SENT if not error else AlertDelivery.Status.FAILED
    else:
        subject = f"[orchestrator] {KINDS[kind]}"[:200]
        text = f"{event.message}\n\n" + json.dumps(body, indent=2, default=str)
        try:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, list(rule.emails), fail_silently=False)
            delivery.status, delivery.error = AlertDelivery.Status.SENT, ""
        except Exception as exc:  # noqa: BLE001 - any mail backend error is recorded, never raised
            delivery.status, delivery.error = AlertDelivery.Status.FAILED, f"{type(exc).__name__}: {exc}"[:500]
    delivery.at = timezone.now()
    return delivery


def deliver(rule: AlertRule, event: Event, kind: str, now: datetime) -> list[AlertDelivery]:
    """Claim and send one matched event on each of the rule's channels (suppressed while cooling down)."""
    with transaction.atomic():
        rows = claim(rule, event, kind, now, set())
    return send_all([(row, kind) for row in rows])


def send_all(work: list[tuple[AlertDelivery, str]]) -> list[AlertDelivery]:
    """Send the pending deliveries concurrently, outside any transaction, then record their outcomes."""
    pending = [(row, kind) for row, kind in work if row.status == AlertDelivery.Status.PENDING]
    if pending:
        # The payloads are built here: they read the event's deployment, which the threads must not query.
        bodies = [payload(row.event, row.rule, kind) for row, kind in pending]
        workers = min(settings.ALERT_SEND_THREADS, len(pending))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alert") as pool:
            list(pool.map(lambda item: send(item[0][0], item[0][1], item[1]), zip(pending, bodies, strict=True)))
        for row, _ in pending:
            row.save(update_fields=["status", "response_code", "error", "at"])
    return [row for row, _ in work]


def run(batch: int = 500) -> int:
    """Match the events after the cursor against the enabled rules and deliver; returns events scanned.

    The cursor row is locked only while the matches are claimed (rows ``pending`` or ``suppressed``)
    and the cursor moved past them, so two workers never deliver the same event twice; the network
    calls come after the commit, so a slow receiver holds no lock and no transaction.
    """
    work: list[tuple[AlertDelivery, str]] = []
    with transaction.atomic():
        cursor, _ = AlertCursor.objects.get_or_create(name=CURSOR, defaults={"last_event_id": _start()})
        cursor = AlertCursor.objects.select_for_update().get(pk=cursor.pk)
        events = list(
            Event.objects.filter(id__gt=cursor.last_event_id).select_related("deployment").order_by("id")[:batch]
        )
        if not events:
            return 0
        rules = list(AlertRule.objects.filter(enabled=True))
        claimed: set[tuple[int, int | None]] = set()
        for event in events:
            kind = alert_kind(event.kind, event.after)
            if kind is None:
                continue
            for rule in rules_for(kind, event, rules):
                work.extend((row, kind) for row in claim(rule, event, kind, timezone.now(), claimed))
        cursor.last_event_id = events[-1].pk
        cursor.save(update_fields=["last_event_id"])
    send_all(work)
    return len(events)


def _start() -> int:
    """Where a new cursor starts: after the events written before the first rule existed, so the
    first scan never replays history nobody asked to be alerted about."""
    first_rule = AlertRule.objects.order_by("created_at").values_list("created_at", flat=True).first()
    earlier = Event.objects.filter(created_at__lt=first_rule) if first_rule else Event.objects.all()
    return earlier.order_by("-id").values_list("id", flat=True).first() or 0
