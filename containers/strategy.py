"""A deployment's rollout strategy: its fields, their bounds and the one rule across them.

The API's serializer, the console's edit form and :func:`containers.deployments.update_deployment`
read them from here, so a value one of them refuses the others refuse too, naming the same field.
"""

from __future__ import annotations

from typing import Any

# Field -> (lowest, highest) accepted value.
BOUNDS: dict[str, tuple[int, int]] = {
    "max_surge": (0, 10_000),
    "max_unavailable": (0, 10_000),
    "min_ready_seconds": (0, 3600),
    "progress_deadline_s": (1, 86_400),
    "drain_timeout_s": (0, 3600),
    "stop_grace_s": (0, 3600),
}
FIELDS = (*BOUNDS, "auto_rollback")
STALLED = "max_surge and max_unavailable cannot both be 0: a rollout could never start"


def stall_field(changes: dict[str, Any], surge: int, unavailable: int) -> str | None:
    """The field to name when ``surge`` and ``unavailable`` are both 0 (the one being changed), else None."""
    if surge != 0 or unavailable != 0:
        return None
    return "max_surge" if "max_surge" in changes else "max_unavailable"


def out_of_bounds(changes: dict[str, Any]) -> dict[str, str]:
    """Each strategy field of ``changes`` outside its bounds, with what is wrong in plain words."""
    problems = {}
    for name, (low, high) in BOUNDS.items():
        value = changes.get(name)
        if value is not None and not low <= value <= high:
            problems[name] = f"must be between {low} and {high}"
    return problems
