"""Autoscaling: each enabled autoscaler keeps its deployment's average CPU % near a target.

The average comes from the sampler's snapshots of the deployment's running containers over the
stabilization window (CPU % of each container's own limit). The recommendation is
``ceil(current × average / target)`` clamped to [min, max]. Scaling up happens at once; scaling down
only to the highest recommendation of the window, and only once the last scale is a window old,
so a burst that ends doesn't flap the replicas. Changes go through ``deployments.scale`` (its
``deployment.scaled`` event); each decision is also an ``autoscale.decision`` event with its reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Avg
from django.utils import timezone

from containers import deployments
from containers.locks import job_lock
from containers.models import Container, record
from containers.refusals import Refused
from health.models import Autoscaler, Snapshot
from orchestrator_site.processes import heartbeats

ACTOR = "autoscaler"
JOB = "autoscale"


@dataclass(frozen=True)
class Decision:
    replicas: int
    reason: str


def recommend(current: int, avg_cpu_pct: float, target_pct: float, low: int, high: int) -> int:
    """Replicas that would bring the average CPU % to the target, within [low, high]."""
    wanted = math.ceil(current * avg_cpu_pct / target_pct - 1e-9) if target_pct > 0 else current
    return max(low, min(high, wanted))


def decide(
    current: int,
    recommendation: int,
    window: list[tuple[float, int]],
    now: float,
    window_s: float,
    last_scaled_at: float | None,
) -> Decision:
    """What to scale to: up at once; down to the window's highest recommendation once the last scale is
    a window old. ``window`` holds ``(epoch seconds, replicas)`` recommendations, including this one."""
    if recommendation > current:
        return Decision(recommendation, f"scale up: {recommendation} recommended")
    if recommendation == current:
        return Decision(current, "at the recommendation")
    recent = [replicas for at, replicas in window if at >= now - window_s]
    highest = max([recommendation, *recent])
    if highest >= current:
        return Decision(current, f"scale down held: {highest} recommended within the last {window_s:g}s")
    if last_scaled_at is not None and now - last_scaled_at < window_s:
        return Decision(current, f"scale down held: last scaled {now - last_scaled_at:.0f}s ago")
    return Decision(highest, f"scale down: no more than {highest} recommended for {window_s:g}s")


def average_cpu(autoscaler: Autoscaler, now: datetime) -> float | None:
    """The deployment's running containers' mean CPU % over the window (None without samples)."""
    running = Container.objects.filter(deployment_id=autoscaler.deployment_id, status=Container.Status.RUNNING)
    since = now - timedelta(seconds=max(autoscaler.stabilization_s, 1))
    return Snapshot.objects.filter(
        container_id__in=running.values("pk"), taken_at__gte=since, running=True, cpu_pct__isnull=False
    ).aggregate(avg=Avg("cpu_pct"))["avg"]


def evaluate(autoscaler: Autoscaler, now: datetime | None = None) -> Decision | None:
    """One autoscaler's tick: recommend, remember, decide, apply. None when there is nothing to go on."""
    now = now or timezone.now()
    deployment = autoscaler.deployment
    current = deployment.replicas
    if current == 0:
        return None  # stopped by someone: the autoscaler does not start it again
    average = average_cpu(autoscaler, now)
    if average is None:
        return None
    stamp = now.timestamp()
    recommendation = recommend(
        current, average, autoscaler.target_cpu_pct, autoscaler.min_replicas, autoscaler.max_replicas
    )
    window = [(at, n) for at, n in autoscaler.recommendations if at >= stamp - autoscaler.stabilization_s] + [
        (stamp, recommendation)
    ]
    last = autoscaler.last_scaled_at.timestamp() if autoscaler.last_scaled_at else None
    decision = decide(current, recommendation, window, stamp, autoscaler.stabilization_s, last)
    autoscaler.recommendations = window
    fields = ["recommendations"]
    if decision.replicas != current:
        reason = f"{decision.reason} (average CPU {average:.1f}% against a target of {autoscaler.target_cpu_pct:g}%)"
        try:
            deployments.scale(deployment, decision.replicas, actor=ACTOR)
        except Refused as exc:
            reason = f"{reason}; refused: {exc}"
            decision = Decision(current, reason)
        else:
            autoscaler.last_scaled_at = now
            fields.append("last_scaled_at")
            decision = Decision(decision.replicas, reason)
        record(
            "autoscale.decision",
            actor=ACTOR,
            deployment=deployment,
            before={"replicas": current},
            after={"replicas": decision.replicas, "avg_cpu_pct": round(average, 2), "recommended": recommendation},
            message=f"{deployment.name}: {reason}",
        )
    autoscaler.save(update_fields=fields)
    return decision


def any_enabled() -> bool:
    """Whether beat's autoscaling tick has anything to do (its gate: no autoscaler, no tick at all)."""
    return Autoscaler.objects.filter(enabled=True).exists()


def run_scheduled() -> int:
    """Beat's tick: a round, unless another process is running one or just ran one (a second evaluation
    right after a scale would see the new replicas with the old load, and scale again)."""
    with job_lock(JOB) as acquired:
        if not acquired or not heartbeats.claim(JOB, settings.AUTOSCALE_TICK_S / 2):
            return 0
        return run()


def run() -> int:
    """Evaluate every enabled autoscaler; returns how many changed their deployment's replicas."""
    changed = 0
    for autoscaler in Autoscaler.objects.filter(enabled=True).select_related("deployment"):
        before = autoscaler.deployment.replicas
        decision = evaluate(autoscaler)
        changed += decision is not None and decision.replicas != before
    return changed
