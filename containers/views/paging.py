"""A paginator that counts only as far as it needs to: for long, append-only lists such as the event log.

Counting every matching row for "Page 1 of 1,000" costs as much as the table is long (a COUNT over
50,000 events took longer than rendering the page). This one counts at most ``ahead`` rows past the
asked page: below that the total is exact and the pages are numbered as usual; above it the page
knows there is more ("more than N"), links to the next page, and offers no "Last" (it doesn't know
where that is). Someone who asks for a far page directly still gets it: the count then reaches that
far, which the page's own OFFSET costs anyway.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """``count`` is exact up to ``ceiling`` rows (``exact`` says whether it was); past it, ``ceiling + 1``."""

    def __init__(self, rows: QuerySet[Any], per_page: int, asked_page: str | None, ahead: int = 1000) -> None:
        super().__init__(rows, per_page)
        try:
            asked = max(1, int(asked_page or 1))
        except ValueError:
            asked = 1  # get_page() falls back to the first page too
        self.ceiling = asked * per_page + ahead

    @cached_property
    def count(self) -> int:
        # A COUNT over a LIMITed subquery of bare ids, unordered: the database stops at ceiling + 1 rows.
        rows = cast(QuerySet[Any], self.object_list)
        return min(rows.order_by().values("pk")[: self.ceiling + 1].count(), self.ceiling + 1)

    @property
    def exact(self) -> bool:
        return self.count <= self.ceiling
