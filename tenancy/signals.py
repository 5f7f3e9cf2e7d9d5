"""Login failures become audit records (django-axes, also listening, does the throttling)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_login_failed

from tenancy.audit import audit


def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    audit(
        "login.failed",
        actor=username or "anonymous",
        organization_id=None,
        message=f"failed login for {username!r} from {address or 'unknown address'}",
        after={"username": username, "address": address},
    )


def connect() -> None:
    user_login_failed.connect(login_failed, dispatch_uid="tenancy.login_failed")
