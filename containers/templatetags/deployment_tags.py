"""Template helpers for the deployment pages: the time left in a backoff, the replicas ceiling."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.conf import settings
from django.utils import timezone

register = template.Library()


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


@register.simple_tag
def max_replicas() -> int:
    """The ceiling for the replicas inputs, read from settings at render time like the forms do."""
    return int(settings.MAX_REPLICAS)
