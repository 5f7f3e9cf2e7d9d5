"""Refused requests: the exceptions actions raise, and the event every refusal leaves.

The API's exception handler turns a :class:`Refused` into its ``status`` with a JSON body
naming ``field``; console views show the message next to the field.
"""

from __future__ import annotations

from typing import Any, NoReturn

from containers.models import Deployment, record


class Refused(Exception):
    """An action the current state does not allow; ``status`` is the HTTP status to answer with."""

    status = 409

    def __init__(
        self, message: str, *, field: str | None = None, fields: dict[str, list[str]] | None = None, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Several fields at once (admission names each limit it refuses); ``field`` is one with this message.
        self.fields = fields or ({field: [message]} if field else {})
        # What a lower layer said, word for word (an engine error): shown after the message, never instead.
        self.detail = detail


class AdmissionRefused(Refused):
    """Starting this would reserve more CPU or memory than the host has."""


class NotFound(Refused):
    status = 404


class InvalidInput(Refused):
    """The request asks for something that cannot be valid (a malformed reference, too many replicas)."""

    status = 400


class Forbidden(Refused):
    """The caller may not do this (e.g. approve capabilities without being an administrator)."""

    status = 403


class QuotaRefused(Refused):
    """This would pass one of the organization's quotas; names the quota, its limit and what it would reach."""

    status = 409

    def __init__(self, message: str, *, quota: str, limit: str, would_reach: str) -> None:
        super().__init__(message, field=quota)
        self.quota = quota
        self.limit = limit
        self.would_reach = would_reach


def refuse(
    message: str,
    *,
    actor: str,
    deployment: Deployment | None = None,
    field: str | None = None,
    fields: dict[str, list[str]] | None = None,
    exc: type[Refused] = Refused,
    detail: str = "",
    organization_id: Any = None,
) -> NoReturn:
    """Record the refusal in the event log and raise; call it before opening a transaction,
    so the event outlives the refused request."""
    extra = {"organization_id": organization_id} if organization_id is not None else {}
    record(
        "request.refused",
        actor=actor,
        deployment=deployment,
        message=f"{message} ({detail})" if detail else message,
        after={"field": field} if field else ({"fields": sorted(fields)} if fields else None),
        **extra,
    )
    raise exc(message, field=field, fields=fields, detail=detail)
