"""Roles and what each may do: pure data, no database.

A role is a set of capabilities. ``read`` sees an organization's objects, ``operate`` changes
desired state (deploy, scale, restart, upload, pull, roll back), ``manage`` changes members,
roles, tokens and the organization's settings, ``billing`` sees usage and invoices. A role
``a`` is "no higher than" ``b`` when a's capabilities are a subset of b's, so a token can
never be given more than its owner holds (billing and viewer are not comparable: neither
contains the other).
"""

from __future__ import annotations

from django.db import models

READ = "read"
OPERATE = "operate"
MANAGE = "manage"
BILLING = "billing"


class Role(models.TextChoices):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    BILLING = "billing"


CAPABILITIES: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset({READ}),
    Role.OPERATOR: frozenset({READ, OPERATE}),
    Role.ADMIN: frozenset({READ, OPERATE, MANAGE, BILLING}),
    Role.BILLING: frozenset({BILLING}),
}
EVERYTHING = frozenset({READ, OPERATE, MANAGE, BILLING})


def capabilities(role: str | None) -> frozenset[str]:
    """What ``role`` may do; nothing for an unknown or missing role."""
    return CAPABILITIES.get(role or "", frozenset())


def within(role: str, ceiling: str | None) -> bool:
    """True when ``role`` grants nothing that ``ceiling`` does not."""
    return bool(capabilities(role)) and capabilities(role) <= capabilities(ceiling)


def grantable(ceiling: str | None) -> list[str]:
    """The roles someone holding ``ceiling`` may hand to a token, in the order of ``Role``."""
    return [role.value for role in Role if within(role.value, ceiling)]
