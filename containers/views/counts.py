"""Counts the console's deployment pages annotate, computed by the database as subqueries.

A subquery, not a join with GROUP BY: the database counts for the rows a page shows, after its
ORDER BY and LIMIT, instead of grouping every deployment's containers first.
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from containers.models import Container


def containers_counted(condition: Q) -> Coalesce:
    """The number of the deployment's containers matching ``condition``, 0 for none."""
    matching = Container.objects.filter(condition, deployment=OuterRef("pk"))
    counted = matching.order_by().values("deployment").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def running_count() -> Coalesce:
    # Of the current generation: a container being replaced by a new spec does not count.
    return containers_counted(Q(status=Container.Status.RUNNING, generation=OuterRef("generation")))
