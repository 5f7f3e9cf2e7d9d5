"""What tenancy announces to the floors above it (they register in their ``AppConfig.ready()``).

``before_organization_delete`` receivers get the organization's id and clean up what they keep
outside the database for it (containers: its containers and its Docker network); a receiver
that raises stops the deletion, so nothing is left half-removed.
"""

from __future__ import annotations

from collections.abc import Callable

before_organization_delete: list[Callable[[int], None]] = []


def register(hook_list: list[Callable[[int], None]], receiver: Callable[[int], None]) -> None:
    if receiver not in hook_list:
        hook_list.append(receiver)
