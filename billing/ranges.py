"""The time range of a usage or invoice query: ``from`` (inclusive) and ``to`` (exclusive), validated.

Either may be a date (``2026-11-01``) or an ISO 8601 instant (UTC when it names no offset). A bad
value, ``from`` after ``to``, or a range wider than ``BILLING_EXPORT_MAX_DAYS`` is refused with a
400 naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from tenancy.errors import Invalid


def parse_instant(raw: str, field: str) -> datetime:
    value = raw.strip()
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is None and len(value) == 7:  # 2026-11: a month
                day = parse_date(value + "-01")
            if day is None:
                raise ValueError
            parsed = datetime(day.year, day.month, day.day)
    except ValueError:
        raise Invalid(f"{field} must be a date (2026-11-01) or an ISO 8601 instant", field=field) from None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def time_range(params: Mapping[str, str], *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``(start, end)`` from ``from`` and ``to``; by default the current month (UTC) up to now."""
    now = now or timezone.now()
    start = parse_instant(params["from"], "from") if params.get("from") else None
    end = parse_instant(params["to"], "to") if params.get("to") else None
    if start is None:
        start = (end or now).astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if end is not None and start == end:
            start = (start - timedelta(days=1)).replace(day=1)
    if end is None:
        end = max(now, start)
    if start > end:
        raise Invalid("to must not be before from", field="to")
    if end - start > timedelta(days=settings.BILLING_EXPORT_MAX_DAYS):
        raise Invalid(f"the range is wider than {settings.BILLING_EXPORT_MAX_DAYS} days; ask for less", field="to")
    return start, end
