"""The replicas bound (``MAX_REPLICAS``), checked in one place. CPU and memory units are parsed by
:mod:`orchestrator_site.units`."""

from __future__ import annotations

from django.conf import settings


def replicas_problem(replicas: int) -> str:
    """What is wrong with a number of replicas ("" when it is within 0..``MAX_REPLICAS``).

    The one place the bound is checked: forms, serializers, actions and the preview all ask here,
    reading the setting at call time so it can change without a restart.
    """
    if replicas < 0:
        return "must be at least 0"
    if replicas > settings.MAX_REPLICAS:
        return f"must be at most {settings.MAX_REPLICAS}"
    return ""
