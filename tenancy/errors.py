"""What tenancy's actions raise; the API's exception handler and the console turn them into answers."""

from __future__ import annotations


class TenancyError(Exception):
    """A refused tenancy action; ``status`` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(TenancyError):
    status = 400


class Forbidden(TenancyError):
    """The caller's role does not allow this (403)."""

    status = 403


class Conflict(TenancyError):
    """The organization's state does not allow this: the last admin, a duplicate member (409)."""

    status = 409


class QuotaExceeded(TenancyError):
    """This would pass one of the organization's quotas (409), naming the quota, its limit and what it would reach."""

    status = 409

    def __init__(self, quota: str, limit: str, would_reach: str) -> None:
        super().__init__(f"quota exceeded: {quota} would reach {would_reach}, the limit is {limit}", field=quota)
        self.quota = quota
        self.limit = limit
        self.would_reach = would_reach
