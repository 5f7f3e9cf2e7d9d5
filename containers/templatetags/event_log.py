"""Template helpers for the event log: the before/after JSON shown as it is stored, the deployment filter's options."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON (autoescaped by the template like any string); an em dash for nothing."""
    if value is None:
        return "—"
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@register.simple_tag
def deployment_options(deployments: Iterable[tuple[int, str]], chosen: str) -> SafeString:
    """The deployment filter's ``<option>``s from (pk, name) pairs, ``chosen`` (a pk as the form holds it) selected.

    Joined in Python: a template loop over every deployment cost as much as ten event rows.
    """
    return mark_safe(
        "".join(
            f'<option value="{pk}"{" selected" if str(pk) == chosen else ""}>{escape(name)}</option>'
            for pk, name in deployments
        )
    )
