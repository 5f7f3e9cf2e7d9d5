"""Alerts: rules matched against the event log, delivered by webhook (JSON POST) and email.

A beat task scans the events newer than a stored cursor (their id), so nothing that writes an
event needs to know about alerts, and a delivery that is slow never holds up the writer. A rule
is quiet for ``cooldown_s`` per deployment after a delivery; a suppressed match is recorded too.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from containers.models import Event
from health.models import AlertCursor, AlertDelivery, AlertRule

CURSOR = "alerts"
WEBHOOK_TIMEOUT_S = 5.0
WEBHOOK_SCHEMES = ("http", "https")

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


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` can't be a webhook (only http and https with a host), or None."""
    parts = urlsplit(url)
    if parts.scheme not in WEBHOOK_SCHEMES:
        return "the webhook URL must be http or https"
    if not parts.hostname:
        return "the webhook URL needs a host"
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
    """POST ``body`` as JSON; returns (response code, error text or "")."""
    problem = webhook_url_problem(url)
    if problem:
        return None, problem
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "orchestrator-alerts"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:  # noqa: S310 (scheme checked)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


def rules_for(kind: str, event: Event, rules: list[AlertRule]) -> list[AlertRule]:
    return [
        rule
        for rule in rules
        if kind in rule.event_kinds and (rule.deployment_id is None or rule.deployment_id == event.deployment_id)
    ]


def last_sent(rule: AlertRule, deployment_id: int | None) -> datetime | None:
    sent = AlertDelivery.objects.filter(rule=rule, status=AlertDelivery.Status.SENT)
    # An event without a deployment is cooled down with the others without one.
    sent = sent.filter(deployment__isnull=True) if deployment_id is None else sent.filter(deployment_id=deployment_id)
    return sent.order_by("-at").values_list("at", flat=True).first()


def deliver(rule: AlertRule, event: Event, kind: str, now: datetime) -> list[AlertDelivery]:
    """Deliver one matched event on each of the rule's channels, unless the rule is cooling down."""
    common = {"rule": rule, "event": event, "deployment_id": event.deployment_id}
    channels = ([AlertDelivery.Channel.WEBHOOK] if rule.webhook_url else []) + (
        [AlertDelivery.Channel.EMAIL] if rule.emails else []
    )
    if not cooled_down(last_sent(rule, event.deployment_id), now, rule.cooldown_s):
        return [
            AlertDelivery.objects.create(**common, channel=channel, status=AlertDelivery.Status.SUPPRESSED, at=now)
            for channel in channels
        ]
    deliveries = []
    if rule.webhook_url:
        code, error = post_webhook(rule.webhook_url, payload(event, rule, kind))
        ok = code is not None and 200 <= code < 300
        deliveries.append(
            AlertDelivery.objects.create(
                **common,
                channel=AlertDelivery.Channel.WEBHOOK,
                target=rule.webhook_url,
                status=AlertDelivery.Status.SENT if ok else AlertDelivery.Status.FAILED,
                response_code=code,
                error=error,
                at=timezone.now(),
            )
        )
    if rule.emails:
        subject = f"[orchestrator] {KINDS[kind]}"[:200]
        body = f"{event.message}\n\n" + json.dumps(payload(event, rule, kind), indent=2, default=str)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, list(rule.emails), fail_silently=False)
            status, error = AlertDelivery.Status.SENT, ""
        except Exception as exc:  # noqa: BLE001 - any mail backend error is recorded, never raised
            status, error = AlertDelivery.Status.FAILED, f"{type(exc).__name__}: {exc}"[:500]
        deliveries.append(
            AlertDelivery.objects.create(
                **common,
                channel=AlertDelivery.Channel.EMAIL,
                target=", ".join(rule.emails)[:500],
                status=status,
                error=error,
                at=timezone.now(),
            )
        )
    return deliveries


def run(batch: int = 500) -> int:
    """Match the events after the cursor against the enabled rules and deliver; returns events scanned.

    The cursor row is locked for the scan, so two workers never deliver the same event twice.
    """
    with transaction.atomic():
        cursor, _ = AlertCursor.objects.get_or_create(name=CURSOR, defaults={"last_event_id": _start()})
        cursor = AlertCursor.objects.select_for_update().get(pk=cursor.pk)
        events = list(
            Event.objects.filter(id__gt=cursor.last_event_id).select_related("deployment").order_by("id")[:batch]
        )
        if not events:
            return 0
        rules = list(AlertRule.objects.filter(enabled=True))
        for event in events:
            kind = alert_kind(event.kind, event.after)
            if kind is None:
                continue
            for rule in rules_for(kind, event, rules):
                deliver(rule, event, kind, timezone.now())
        cursor.last_event_id = events[-1].pk
        cursor.save(update_fields=["last_event_id"])
    return len(events)


def _start() -> int:
    """Where a new cursor starts: after the events written before the first rule existed, so the
    first scan never replays history nobody asked to be alerted about."""
    first_rule = AlertRule.objects.order_by("created_at").values_list("created_at", flat=True).first()
    earlier = Event.objects.filter(created_at__lt=first_rule) if first_rule else Event.objects.all()
    return earlier.order_by("-id").values_list("id", flat=True).first() or 0
