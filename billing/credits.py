"""Granting a credit: an amount owed back to an organization, a credit line on its next invoice.

One function, :func:`grant`, for the API and the console's form; the admin's form validates with
the same :func:`check`. Staff only
(the callers check the role). It validates everything before it writes one row, so a refused
grant leaves nothing behind, and names every field that is wrong at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q
from django.utils import timezone

from billing import money
from billing.models import Credit, PlanPeriod
from containers.refusals import InvalidInput
from tenancy.models import Organization

MAX_AMOUNT = Decimal("1e15")  # the column holds 18 digits, 3 after the point
REASON_MAX = 200


def parse_amount(raw: Any, currency: str | None) -> tuple[Decimal | None, str | None]:
    """``raw`` as a positive Decimal in ``currency``'s minor unit, or the problem with it.

    A JSON number is taken by its text (never through a float); a bool is not a number."""
    if raw is None or raw == "" or isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        return None, "the amount is required: a positive number such as 25.00"
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        return None, f"{str(raw)[:40]!r} is not a number; write e.g. 25.00"
    if not amount.is_finite() or amount <= 0:
        return None, "the amount must be a positive number (a credit is owed back to the organization)"
    if amount >= MAX_AMOUNT:
        return None, "the amount is too large"
    if currency is not None and amount != money.round_money(amount, currency):
        return None, f"the amount has more decimals than {currency} has ({money.minor_units(currency)})"
    return amount, None


def plan_currency(organization_id: int) -> str | None:
    """The currency of the organization's plan in force now (None: it is on no plan)."""
    now = timezone.now()
    period = (
        PlanPeriod.objects.filter(organization_id=organization_id, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("plan")
        .first()
    )
    return period.plan.currency if period else None


@dataclass(frozen=True)
class Checked:
    """A credit that may be granted: every field valid."""

    organization: Organization
    amount: Decimal
    currency: str
    reason: str


def check(organization: Any, amount: Any, reason: Any, *, currency: Any = None) -> Checked:
    """The credit's fields, validated; else InvalidInput (400) naming every wrong field.

    Refused: no such organization or one on no plan, an amount that is not a positive number in
    the currency's minor unit, a currency other than the plan's, no reason.
    """
    problems: dict[str, list[str]] = {}
    found = organization if isinstance(organization, Organization) else _organization(organization, problems)
    plan_ccy = plan_currency(found.pk) if found is not None else None
    if found is not None and plan_ccy is None:
        problems["organization"] = [f"{found.slug} is on no plan: a credit is in its plan's currency"]
    if currency not in (None, "") and currency != plan_ccy:
        if not isinstance(currency, str) or not money.CURRENCY_RE.match(currency):
            problems["currency"] = ["a three-letter ISO 4217 code, e.g. EUR"]
        elif plan_ccy is not None:
            problems["currency"] = [f"the organization's plan is in {plan_ccy}; a credit is in its plan's currency"]
    parsed, problem = parse_amount(amount, plan_ccy)
    if problem:
        problems["amount"] = [problem]
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        problems["reason"] = ["the reason is required: it is printed on the invoice's credit line"]
    elif len(text) > REASON_MAX:
        problems["reason"] = [f"at most {REASON_MAX} characters"]
    if problems or found is None or parsed is None or plan_ccy is None:
        field, messages = next(iter(problems.items()))
        raise InvalidInput(f"{field}: {messages[0]}", fields=problems)
    return Checked(found, parsed, plan_ccy, text)


def grant(organization: Any, amount: Any, reason: Any, *, currency: Any = None, actor: str) -> Credit:
    """Credit ``amount`` (in the currency of the organization's plan in force) to ``organization``
    (an Organization, or its slug) for ``reason``; it becomes a credit line on the invoice of this month.
    Refused as :func:`check` says, with nothing written."""
    checked = check(organization, amount, reason, currency=currency)
    return Credit.objects.create(
        organization=checked.organization,
        amount=checked.amount,
        currency=checked.currency,
        reason=checked.reason,
        created_by=actor[:150],
    )


def _organization(raw: Any, problems: dict[str, list[str]]) -> Organization | None:
    if not isinstance(raw, str) or not raw.strip():
        problems["organization"] = ["the organization is required: its slug"]
        return None
    found = Organization.objects.filter(slug=raw.strip()).first()
    if found is None:
        problems["organization"] = [f"no organization {raw.strip()[:50]!r}"]
    return found
