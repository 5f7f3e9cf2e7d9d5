"""Deployment names: a DNS label (RFC 1123), because a name becomes a service and container name.

One check for the console form and the API, saying in plain words what is wrong and what would do.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

MAX_LENGTH = 63
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_NOT_ALLOWED = re.compile(r"[^a-z0-9-]")


def suggestion(value: str) -> str:
    """The nearest valid name: lowercase, anything else turned into dashes, no dash at either end."""
    name = re.sub(r"-+", "-", _NOT_ALLOWED.sub("-", value.lower())).strip("-")
    return name[:MAX_LENGTH].rstrip("-")


def name_problem(value: str) -> str | None:
    """Why ``value`` is not a usable name, in words, or None when it is one."""
    if not value:
        return "enter a name"
    if len(value) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters (this one has {len(value)})"
    if _LABEL.match(value):
        return None
    better = suggestion(value)
    hint = f" — for example “{better}”" if better else ""
    if value != value.lower():
        return f"use lowercase letters only: a name becomes a container's host name{hint}"
    bad = sorted(set(_NOT_ALLOWED.findall(value)))
    if bad:
        shown = " ".join("a space" if char == " " else f"“{char}”" for char in bad)
        return f"only lowercase letters, digits and dashes; {shown} cannot be used{hint}"
    return f"must start and end with a letter or a digit, not a dash{hint}"


def validate_name(value: str) -> None:
    """Django validator form of :func:`name_problem`."""
    if (problem := name_problem(value)) is not None:
        raise ValidationError(problem, code="invalid")
