"""Template helpers for the deployment pages: the list's rows, the state badge, the time left in a backoff, the
replicas ceiling."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from containers.models import Deployment
from containers.templatetags.console import cores, memory

register = template.Library()

STATE_LABELS = {value: label.lower() for value, label in Deployment.State.choices}


@register.filter
def time_left(until: datetime | None) -> str:
    """``12 s`` / ``3 min 05 s`` until ``until``; empty once it has passed (Django's timeuntil stops at minutes)."""
    if until is None:
        return ""
    seconds = int((until - timezone.now()).total_seconds() + 0.999)
    if seconds <= 0:
        return ""
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


@register.filter
def seconds_ago(moment: datetime | None) -> str:
    """``3 s ago`` / ``4 min ago``: a recent moment to the second (Django's timesince starts at minutes)."""
    if moment is None:
        return ""
    seconds = max(int((timezone.now() - moment).total_seconds()), 0)
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


@register.simple_tag
def max_replicas() -> int:
    """The ceiling for the replicas inputs, read from settings at render time like the forms do."""
    return int(settings.MAX_REPLICAS)


def replica_progress(running: int | None, desired: int, state: str) -> str:
    """What the reconciler is doing about the difference, in words: ``stopping 5``, ``starting 2``;
    empty when the counts agree (or a crash-loop backoff holds the starts)."""
    if running is None or running == desired:
        return ""
    if running > desired:
        return f"stopping {running - desired}"
    if state == Deployment.State.BACKOFF:
        return ""
    return f"starting {desired - running}"


@register.simple_tag
def deployment_progress(deployment: Deployment) -> str:
    return replica_progress(getattr(deployment, "running_count", None), deployment.replicas, deployment.state)


@register.simple_tag
def deployment_state(deployment: Deployment, error: bool = True) -> SafeString:
    """The state badge, then the time left in a backoff and (unless ``error`` is false, for a page that
    shows it in full) the last error, when there are any.

    A tag, not an included template: every row of the list shows it, and an include per row cost
    as much as the rest of the row.
    """
    # While the counts differ the badge says what is happening ("stopping 5"), not a state that the
    # next reconcile is about to leave ("running" with 5 running of 0 desired).
    progress = replica_progress(getattr(deployment, "running_count", None), deployment.replicas, deployment.state)
    if progress:
        parts = [f'<span class="state state-converging">{progress}</span>']
    else:
        # The state and its label come from Deployment.State: nothing to escape.
        parts = [f'<span class="state state-{deployment.state}">{STATE_LABELS.get(deployment.state, "")}</span>']
    if deployment.state == Deployment.State.BACKOFF and deployment.backoff_until:
        left = time_left(deployment.backoff_until)
        parts.append(format_html("<small>{}</small>", f"next start in {left}" if left else "starting again"))
    if error and deployment.last_error and deployment.state != Deployment.State.RUNNING:
        message = deployment.last_error
        parts.append(format_html('<small class="error" title="{}">{}</small>', message, Truncator(message).chars(120)))
    return mark_safe("\n".join(parts))


@register.simple_tag(takes_context=True)
def deployment_rows(context: Any, deployments: Iterable[Deployment]) -> SafeString:
    """The deployments list's ``<tr>``s (rows from ``list_queryset``: ``running_count`` annotated), each with its
    scale form for a role that may operate, and ``error`` (a refused scale) under the number when the context
    has one. Every user-given text is escaped.

    Built in Python rather than by a template loop: 25 rows of some thirty template nodes each were most
    of the list's render time. The one copy of the row: the list, its refresh and the row a scale answers
    with all use it.
    """
    can_operate = context["access"].can_operate
    token = escape(str(context.get("csrf_token", "")))
    error = context.get("error") or ""
    ceiling = int(settings.MAX_REPLICAS)
    return mark_safe("".join(_deployment_row(d, can_operate, token, error, ceiling) for d in deployments))


def _deployment_row(deployment: Deployment, can_operate: bool, token: str, error: str, ceiling: int) -> str:
    pk, name = deployment.pk, escape(deployment.name)
    running = getattr(deployment, "running_count", None)
    if can_operate:
        invalid = f' aria-invalid="true" aria-describedby="scale-error-{pk}"' if error else ""
        controls = (
            f'<form method="post" action="/deployments/{pk}/scale/" class="scale" hx-post="/deployments/{pk}/scale/"'
            ' hx-target="closest tr" hx-swap="outerHTML" hx-disabled-elt="find button">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
            '<input type="hidden" name="next" value="/deployments/">'
            f'<button type="button" data-step="-1" id="scale-down-{pk}" class="outline secondary step"'
            f' aria-label="One replica fewer for {name}" aria-controls="replicas-{pk}">−</button>'
            f'<input type="number" name="replicas" id="replicas-{pk}" value="{deployment.replicas}" min="0"'
            f' max="{ceiling}" required aria-label="Replicas of {name}"{invalid}>'
            f'<button type="button" data-step="1" id="scale-up-{pk}" class="outline secondary step"'
            f' aria-label="One replica more for {name}" aria-controls="replicas-{pk}">+</button>'
            f'<button type="submit" id="scale-apply-{pk}" class="apply" aria-label="Apply the scale of {name}">'
            "Apply</button></form>"
        )
    else:
        controls = '<span class="muted">read only</span>'
    if error:
        controls += f'<small class="error" id="scale-error-{pk}" role="alert">{escape(error)}</small>'
    return (
        f'<tr id="deployment-row-{pk}"><th scope="row"><a href="/deployments/{pk}/">{name}</a></th>'
        f'<td><code class="ref">{escape(deployment.image.reference)}</code></td>'
        f'<td class="count">{"" if running is None else running} / {deployment.replicas}</td>'
        f"<td>{deployment_state(deployment)}</td>"
        f'<td class="limits">{cores(deployment.cpu_limit)} CPU · {memory(deployment.memory_limit_bytes)}</td>'
        f"<td>{controls}</td></tr>\n"
    )


@register.simple_tag
def attention_rows(deployments: Iterable[Deployment]) -> SafeString:
    """The dashboard's ``<tr>``s for the deployments that most need a look (rows from
    ``containers.views.dashboard.deployments_needing_a_look``: ``running_count`` and ``containers_by_status``
    set), every user-given text escaped.

    Built in Python like ``deployment_rows``: the template loop was half of the dashboard's own template time.
    The visible counts are part of the containers link's name (axe: label-content-name-mismatch).
    """
    return mark_safe("".join(_attention_row(d) for d in deployments))


def _attention_row(deployment: Any) -> str:
    pk, name = deployment.pk, escape(deployment.name)
    # Statuses come from Container.Status: nothing to escape.
    counts = " ".join(
        f'<span class="status status-{status}">{count} {status}</span>'
        for status, count in deployment.containers_by_status
    )
    counts = counts or '<span class="muted">none</span>'
    return (
        f'<tr id="deployment-{pk}"><th scope="row"><a href="/deployments/{pk}/">{name}</a></th>'
        f'<td><code class="ref">{escape(deployment.image.reference)}</code></td>'
        f'<td class="count">{deployment.running_count} / {deployment.replicas}</td>'
        f"<td>{deployment_state(deployment)}</td>"
        f'<td><a href="/deployments/{pk}/#containers-heading" class="by-state">'
        f'<span class="visually-hidden">Containers of {name}:</span>'
        f"{counts}</a></td></tr>\n"
    )
