"""Keep the engine converged to the deployments' desired state.

``plan(desired, observed)`` is pure: it says which containers to remove and how many to
create. ``converge(deployment_id)`` is the shell around it: under the deployment's lock it
observes the engine (by labels), accounts for crashes, applies the plan through
``containers.engine`` and mirrors the result into ``Container`` rows and events.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from containers import engine, hooks, locks, rollouts
from containers.locks import deployment_lock
from containers.models import Container, Deployment, Event, ReplicaSlot, record
from orchestrator_site.processes import durations

log = logging.getLogger(__name__)

ACTOR = "reconciler"
# After a death's replacement started: when its readiness is first checked, then twice as long each time
# while it does not answer, for up to READY_WAIT_S in all (then the tick checks it).
READY_CHECK_S = 0.25
# States in which a container is alive or about to be; anything else is dead and replaced.
ALIVE_STATES = frozenset({"running", "restarting", "paused"})


# --- the pure core -------------------------------------------------------------------


@dataclass(frozen=True)
class Desired:
    replicas: int
    generation: int
    can_create: bool = True  # False during crash-loop backoff
    # The rolling strategy; None replaces every old container at once (the preview's whole picture).
    max_surge: int | None = None
    max_unavailable: int = 0
    frozen: bool = False  # a paused or failed rollout: start no more of the new generation


@dataclass(frozen=True)
class Observed:
    id: str
    generation: int
    alive: bool
    ready: bool = True  # takes traffic (a container of the current generation: and for min_ready_seconds)


@dataclass(frozen=True)
class Removal:
    container_id: str
    reason: str  # "exited", "outdated", "surplus"


@dataclass(frozen=True)
class Plan:
    create: int = 0
    remove: tuple[Removal, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return self.create == 0 and not self.remove


def plan(desired: Desired, observed: list[Observed]) -> Plan:
    """What to do next so that, in the end, exactly ``replicas`` alive containers of the current generation run.

    Dead containers are removed and a surplus is removed from the end of ``observed`` (callers list oldest
    first). Containers of an older generation are replaced: all at once without a strategy; with one, a
    rolling step: at most ``replicas + max_surge`` containers exist and at least ``replicas -
    max_unavailable`` ready ones remain, so an old ready container goes only once a new one is ready.
    """
    removals: list[Removal] = []
    current: list[Observed] = []
    old: list[Observed] = []
    for container in observed:
        if not container.alive:
            removals.append(Removal(container.id, "exited"))
        elif container.generation != desired.generation:
            old.append(container)
        else:
            current.append(container)
    if desired.max_surge is None:
        removals.extend(Removal(c.id, "outdated") for c in old)
        old = []
    surplus = len(current) - desired.replicas
    if surplus > 0:
        # Not-ready ones go first: they serve nobody yet.
        ordered = [c for c in current if c.ready] + [c for c in current if not c.ready]
        removals.extend(Removal(c.id, "surplus") for c in ordered[len(ordered) - surplus :])
        current = ordered[: len(ordered) - surplus]
    if not old:
        missing = max(0, desired.replicas - len(current))
        return Plan(create=missing if desired.can_create else 0, remove=tuple(removals))
    if desired.frozen:
        return Plan(remove=tuple(removals))
    ceiling = desired.replicas + (desired.max_surge or 0)
    create = max(0, min(desired.replicas - len(current), ceiling - len(old) - len(current)))
    ready_now = sum(c.ready for c in old) + sum(c.ready for c in current)
    floor = desired.replicas - desired.max_unavailable
    # Old containers that are not ready serve nobody: they go at once; ready ones only above the floor.
    removals.extend(Removal(c.id, "outdated") for c in old if not c.ready)
    spare = max(0, ready_now - floor)
    removals.extend(Removal(c.id, "outdated") for c in [c for c in old if c.ready][:spare])
    return Plan(create=create if desired.can_create else 0, remove=tuple(removals))


def backoff_delay(crashes: int) -> float:
    """Seconds to wait before the next start after ``crashes`` crashes in a row.

    The first crash is replaced at once; then 1x, 2x, 4x ... the base, capped.
    """
    if crashes <= 1:
        return 0.0
    return float(min(settings.BACKOFF_BASE_S * 2 ** (crashes - 2), settings.BACKOFF_CAP_S))


def assign_slots(count: int, held: Collection[int], vacated: Sequence[int]) -> list[int]:
    """Replica slot numbers for ``count`` new containers: first the slots ``vacated`` names, in its order
    (whose container died, vanished or is being replaced: the new one fills its predecessor's slot), then the
    lowest numbers from 1 that no container holds (``held``)."""
    taken = set(held)
    chosen: list[int] = []
    for number in vacated:
        if len(chosen) < count and number not in taken:
            chosen.append(number)
            taken.add(number)
    number = 1
    while len(chosen) < count:
        if number not in taken:
            chosen.append(number)
            taken.add(number)
        number += 1
    return chosen


# --- the shell --------------------------------------------------------------------------


def container_spec(deployment: Deployment) -> engine.ContainerSpec:
    """The container to create: the generation's pinned image id (the tag only until it is pinned),
    the approved capabilities, the deployment's own network."""
    network = deployment.network_name() if settings.DEPLOYMENT_NETWORKS else ""
    return engine.ContainerSpec(
        name=f"{deployment.name}-{secrets.token_hex(3)}",
        image=deployment.image_docker_id or deployment.image.reference,
        labels={**engine.deployment_labels(deployment.pk), engine.LABEL_GENERATION: str(deployment.generation)},
        cpu_limit=float(deployment.cpu_limit),
        memory_limit_bytes=deployment.memory_limit_bytes,
        container_port=deployment.container_port,
        command=list(deployment.command),
        env={str(k): str(v) for k, v in deployment.env.items()},
        restart_policy=deployment.restart_policy,
        cap_add=tuple(deployment.granted_capabilities()),
        read_only=deployment.read_only_root,
        network=network,
        # The organization label lets an operator see whose network it is (and tests check it).
        network_labels=(
            {**engine.deployment_labels(deployment.pk), engine.LABEL_ORGANIZATION: str(deployment.organization_id)}
            if network
            else {}
        ),
        disk_limit_bytes=settings.CONTAINER_DISK_LIMIT_BYTES,
    )


def pin_image(deployment: Deployment) -> None:
    """Pin the generation to the id its image's tag names now, before its first container starts.

    Containers are created from that id, so an upload or pull that moves the tag later changes
    nothing until someone rolls out (``deployments.rollout``) or changes the spec. An image that is
    not on the engine stays unpinned: creating the container then fails and says so.
    """
    if deployment.image_docker_id:
        return
    try:
        info = engine.inspect_image(deployment.image.reference)
    except engine.ImageNotFound:
        return
    deployment.image_docker_id = info.id
    Deployment.objects.filter(pk=deployment.pk, generation=deployment.generation).update(image_docker_id=info.id)
    rollouts.image_pinned(deployment)
    record(
        "deployment.image_pinned",
        actor=ACTOR,
        deployment=deployment,
        message=f"generation {deployment.generation} of {deployment.name} runs {deployment.image} = {info.id[:19]}",
        after={"generation": deployment.generation, "image": deployment.image.reference, "image_docker_id": info.id},
    )


@dataclass(frozen=True)
class Death:
    """What the engine's ``die`` event said about a container (the watcher passes it on): enough to replace
    the container without asking the engine about it again."""

    container_id: str
    exit_code: int | None
    finished_at: datetime


@dataclass
class Outcome:
    """What one converge did, for callers that report it (the seed's start endpoint)."""

    created: list[Container] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def converge(
    deployment_id: int, *, blocking: bool = True, died: str = "", death: Death | None = None
) -> Outcome | None:
    """Reconcile one deployment; returns None if it is gone or (not blocking) locked by another.

    ``died`` names a container the engine just reported dead (``death``: what its ``die`` event said).
    """
    with deployment_lock(deployment_id, blocking=blocking) as acquired:
        if not acquired:
            return None
        return converge_held(deployment_id, died=died, death=death)


def converge_held(deployment_id: int, *, died: str = "", death: Death | None = None) -> Outcome | None:
    """:func:`converge` for a caller that already holds the deployment's lock (the seed's start,
    which changes the desired state and converges it under one hold)."""
    try:
        deployment = Deployment.objects.select_related("image").get(pk=deployment_id)
    except Deployment.DoesNotExist:
        return None
    if death is not None and (
        deployment.restart_policy != Deployment.RestartPolicy.NO
        or Container.objects.filter(docker_id=death.container_id, status=Container.Status.RESTARTING).exists()
    ):
        death = None  # the engine may be restarting it: only its own state says whether it is dead
    if died and death is None:
        # The engine's container list still shows a container running for a moment after its ``die``
        # event, while an inspect waits for the state change (on a busy engine ~0.3 s: the engine tears
        # the container's network down first), so it is inspected first.
        try:
            engine.inspect_container(died)
        except engine.ContainerNotFound:
            pass
    # Kept in the database, so /metrics shows every worker's converges (processes.durations).
    # Readiness is probed under the lock only while a rollout's plan counts ready containers: a probe costs
    # up to ~0.1 s a container (rollouts.answers), and a death in the same deployment waits for the lock.
    # Otherwise check_readiness probes outside it (queued for a replacement, and after every tick).
    with durations.timed("reconcile"):
        outcome = _converge_locked(deployment, death, probe=rollouts.rolling(deployment))
    if death is not None and not rollouts.rolling(deployment):
        # A replacement for a death does not hold the deployment's lock while it gets ready: another death
        # in the same deployment would wait for it (up to READY_WAIT_S; measured, a 100-replica deployment
        # killed one container after another waited seconds).
        if outcome.created:
            check_readiness_later(deployment.pk)
        return outcome
    return _roll(deployment, outcome)


def check_readiness(deployment_id: int) -> int:
    """Probe the deployment's running containers not ready yet *without* its lock, then mark those that
    answered ready and, under the lock, let the floors above publish them (their endpoints take traffic).
    Returns how many still do not answer."""
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    if deployment is None:
        return 0
    waiting = list(deployment.containers.filter(status=Container.Status.RUNNING, ready_at__isnull=True))
    answered = [row for row in waiting if rollouts.ready(row, deployment)]
    now = timezone.now()
    marked = [row for row in answered if rollouts.set_ready(deployment, row, now)]
    if marked:
        with deployment_lock(deployment_id):
            hooks.converged(deployment_id)
    return len(waiting) - len(answered)


def check_readiness_later(deployment_id: int, attempt: int = 0) -> None:
    """Queue :func:`check_readiness` (``attempt``: how many ran before) while :func:`ready_check_delay` allows."""
    from containers.tasks import check_readiness as task

    delay = ready_check_delay(attempt, settings.READY_WAIT_S)
    if delay is not None:
        task.apply_async((deployment_id, attempt), countdown=delay)


def ready_check_delay(attempt: int, wait_s: float) -> float | None:
    """How long before readiness check number ``attempt`` (from 0) of a death's replacement: READY_CHECK_S,
    then twice the wait before each time, while the checks stay within ``wait_s`` of the start (the first
    always runs); None when the tick is left to check."""
    if attempt and READY_CHECK_S * (2 ** (attempt + 1) - 1) > wait_s:
        return None
    return READY_CHECK_S * 2**attempt


def _roll(deployment: Deployment, outcome: Outcome) -> Outcome:
    """Keep taking steps (each one a converge, ``ROLLOUT_STEP_S`` apart) while a rollout is under way, for up
    to ``ROLLOUT_HOLD_S`` (then the rest continues in a task queued for it, so no worker is held for ever),
    or while the containers it started are not ready yet, for up to ``READY_WAIT_S`` (then the tick asks again);
    at once when a deletion of the deployment is waiting for its lock."""
    started = time.monotonic()
    while True:
        if locks.deletion_pending(deployment.pk):
            break  # a deletion waits for this lock: it removes everything anyway
        if rollouts.rolling(deployment):
            limit = settings.ROLLOUT_HOLD_S
        elif outcome.created and rollouts.waiting_for_ready(deployment):
            # Only the converge that started containers waits for them: a tick finding one that never
            # answers checks it once and goes on, so ticks cost the same whatever the fleet holds.
            limit = settings.READY_WAIT_S
        else:
            break
        if time.monotonic() - started >= limit:
            if rollouts.rolling(deployment):
                _continue_later(deployment.pk)
            break
        time.sleep(settings.ROLLOUT_STEP_S)
        try:
            deployment = Deployment.objects.select_related("image").get(pk=deployment.pk)
        except Deployment.DoesNotExist:
            break
        with durations.timed("reconcile"):
            step = _converge_locked(deployment)
        outcome.created.extend(step.created)
        outcome.removed.extend(step.removed)
        outcome.failed.extend(step.failed)
    return outcome


def _continue_later(deployment_id: int) -> None:
    from containers.tasks import rollout_step

    rollout_step.apply_async((deployment_id,), countdown=settings.ROLLOUT_STEP_S)


def _converge_locked(deployment: Deployment, death: Death | None = None, *, probe: bool = True) -> Outcome:
    now = timezone.now()
    # Only this deployment's containers: the engine filters by label, so the cost does not grow with the fleet.
    observed = engine.list_containers(engine.deployment_labels(deployment.pk))
    if death is not None:
        observed = [_dead(info, death) if info.id == death.container_id else info for info in observed]
    rows = {row.docker_id: row for row in deployment.containers.all()}
    # Slots whose container died or vanished: their replacements take them over.
    vacated = _sync_rows(deployment, observed, rows)
    dead = [c for c in observed if c.state not in ALIVE_STATES]
    _account_crashes(deployment, dead, rows, now, death)
    for info in dead:
        row = rows.get(info.id)
        if row is not None and row.slot is not None:
            vacated.add(row.slot)

    generation = _adopt_same_template(deployment, observed, rows)
    if probe:
        rollouts.mark_ready(deployment, rows, now)

    created = {docker_id: row.created_at for docker_id, row in rows.items()}
    current_plan = plan(
        Desired(
            deployment.replicas,
            deployment.generation,
            can_create=not deployment.in_backoff(now),
            max_surge=deployment.max_surge,
            max_unavailable=deployment.max_unavailable,
            frozen=rollouts.frozen(deployment),
        ),
        [
            Observed(c.id, generation(c), c.state in ALIVE_STATES, _counts_ready(deployment, rows.get(c.id), now))
            for c in oldest_first(observed, created)
        ],
    )
    outcome = Outcome()
    if not current_plan.empty:
        _apply(deployment, current_plan, rows, outcome, vacated)
    _update_state(deployment, now)
    hooks.converged(deployment.pk)
    rollouts.progress(deployment, rows, timezone.now())
    return outcome


def _dead(info: engine.ContainerInfo, death: Death) -> engine.ContainerInfo:
    """``info`` as its ``die`` event said it is now, whatever the (momentarily stale) list said."""
    if info.state not in ALIVE_STATES:
        return info
    return replace(info, state="exited", exit_code=death.exit_code)


def _adopt_same_template(
    deployment: Deployment, observed: list[engine.ContainerInfo], rows: dict[str, Container]
) -> Callable[[engine.ContainerInfo], int]:
    """During a rollback, containers of an older generation that ran exactly the current template
    (the revision rolled back to) count as the current generation: their rows say so, and the returned
    function maps an engine container to the generation the plan sees (its label keeps its own)."""
    same: set[int] = set()
    if deployment.rollout_phase == Deployment.RolloutPhase.ROLLING_BACK:
        same = rollouts.same_template(
            deployment, {c.generation for c in observed if c.generation != deployment.generation}
        )
    if same:
        Container.objects.filter(deployment=deployment, generation__in=same).update(generation=deployment.generation)
        for row in rows.values():
            if row.generation in same:
                row.generation = deployment.generation

    def generation(info: engine.ContainerInfo) -> int:
        return deployment.generation if info.generation in same else info.generation

    return generation


def _counts_ready(deployment: Deployment, row: Container | None, now: datetime) -> bool:
    """Whether a container counts as ready for the rolling plan: an old one once it was ready, a new one
    once it has been ready ``min_ready_seconds``."""
    if row is None or row.ready_at is None:
        return False
    return row.generation != deployment.generation or rollouts.available(row, deployment, now)


def oldest_first(observed: list[engine.ContainerInfo], created: Mapping[str, datetime]) -> list[engine.ContainerInfo]:
    """``observed`` by the creation time of their rows (``created``: docker id -> time), oldest first, so
    the plan removes the newest surplus; a container with no row yet counts as created now. The preview
    sorts the same way, so it names the containers a converge would remove."""
    now = timezone.now()
    return sorted(observed, key=lambda info: (created.get(info.id, now), info.id))


def _sync_rows(deployment: Deployment, observed: list[engine.ContainerInfo], rows: dict[str, Container]) -> set[int]:
    """Mirror the engine into rows: adopt unknown containers, forget vanished ones, refresh status, give
    every row a replica slot. Returns the slots of containers that vanished (removed from outside): their
    slots count a restart, as a death does."""
    seen = {info.id for info in observed}
    vacated: set[int] = set()
    for docker_id, row in list(rows.items()):
        if docker_id not in seen:
            row.delete()
            del rows[docker_id]
            if row.slot is not None and row.status != Container.Status.REMOVING:  # not one of our own removals
                count_restart(deployment, row.slot)
                vacated.add(row.slot)
            record(
                "container.lost",
                actor=ACTOR,
                deployment=deployment,
                container_docker_id=docker_id,
                message=f"{row.name} disappeared from the engine",
            )
    for info in observed:
        known = rows.get(info.id)
        if known is None:
            (slot,) = assign_slots(1, held_slots(rows), sorted(vacated))
            rows[info.id] = Container.objects.create(
                deployment=deployment,
                docker_id=info.id,
                name=info.name,
                generation=info.generation,
                status=info.state,
                host_port=info.host_port,
                exit_code=info.exit_code,
                started_at=timezone.now(),
                slot=slot,
                restart_count=slot_restarts(deployment, slot),
            )
            message = f"adopted {info.name}, already on the engine"
            if _limit_adopted(deployment, info):
                message += f" without a CPU limit: held to {cores(deployment.cpu_limit)} CPU"
            record(
                "container.adopted", actor=ACTOR, deployment=deployment, container_docker_id=info.id, message=message
            )
        elif (known.status, known.host_port, known.exit_code) != (info.state, info.host_port, info.exit_code):
            known.status, known.host_port, known.exit_code = info.state, info.host_port, info.exit_code
            known.save(update_fields=["status", "host_port", "exit_code", "updated_at"])
    for row in rows.values():
        if row.slot is None:  # a row written by a path that does not number slots
            (row.slot,) = assign_slots(1, held_slots(rows), ())
            row.restart_count = slot_restarts(deployment, row.slot)
            row.save(update_fields=["slot", "restart_count", "updated_at"])
    return vacated


def _limit_adopted(deployment: Deployment, info: engine.ContainerInfo) -> bool:
    """Give an adopted container its CPU limit if it has none (a worker killed between a start and the
    limit that follows it): True if it had none. A container gone meanwhile is the next converge's."""
    try:
        return engine.ensure_cpu_limit(info.id, float(deployment.cpu_limit))
    except engine.EngineUnavailable:
        raise
    except engine.EngineError as exc:
        log.warning("checking the CPU limit of adopted %s failed: %s", info.name, exc)
        return False


def cores(value: Decimal) -> str:
    return format(value.normalize(), "f")


def held_slots(rows: Mapping[str, Container]) -> set[int]:
    return {row.slot for row in rows.values() if row.slot is not None}


def slot_restarts(deployment: Deployment, number: int) -> int:
    """The restarts of a deployment's replica slot (made on first use)."""
    slot, _ = ReplicaSlot.objects.get_or_create(deployment=deployment, number=number)
    return slot.restarts


def count_restart(deployment: Deployment, number: int) -> None:
    """One more restart of the slot: its container died or vanished and will be replaced (one UPDATE)."""
    slot_restarts(deployment, number)
    ReplicaSlot.objects.filter(deployment=deployment, number=number).update(restarts=F("restarts") + 1)


def _account_crashes(
    deployment: Deployment,
    dead: list[engine.ContainerInfo],
    rows: dict[str, Container],
    now: datetime,
    death: Death | None = None,
) -> None:
    """A container that died soon after starting is a crash; crashes in a row back off exponentially."""
    crashes = 0
    for info in dead:
        row = rows.get(info.id)
        started: datetime | None
        finished: datetime | None
        if death is not None and info.id == death.container_id and row is not None and row.started_at:
            # What the event said, and when we started it: no need to wait for the engine's own record.
            started, finished, oom_killed = row.started_at, death.finished_at, False
        else:
            try:
                detail = engine.inspect_container(info.id)
            except engine.ContainerNotFound:
                continue
            started, finished, oom_killed = detail.started_at, detail.finished_at, detail.oom_killed
        # One death, one event: a converge that recorded this death but could not remove the container
        # (the engine went away mid-way, as it does while restarting) sees it again on the next try.
        finished_at = finished.isoformat() if finished else ""
        started_at = started.isoformat() if started else ""
        if already_recorded(info.id, finished_at, started_at):
            continue
        lived = max(0.0, (finished - started).total_seconds()) if started and finished else 0.0
        crashed = lived < settings.CRASH_WINDOW_S
        crashes += crashed
        reason = "out of memory" if oom_killed else f"exit code {info.exit_code}"
        slot = row.slot if row is not None else None
        if slot is not None:
            count_restart(deployment, slot)
        record(
            "container.died",
            actor=ACTOR,
            deployment=deployment,
            container_docker_id=info.id,
            message=f"{info.name} died ({reason}) after {lived:.1f}s" + (", counted as a crash" if crashed else ""),
            after={
                "exit_code": info.exit_code,
                "oom_killed": oom_killed,
                "lived_s": round(lived, 3),
                "finished_at": finished_at,
                "started_at": started_at,
                "slot": slot,
            },
        )
    if crashes:
        count_crashes(deployment, crashes, actor=ACTOR, now=now)
    elif deployment.crash_count and _settled(deployment, rows, now):
        deployment.crash_count = 0
        deployment.backoff_until = None
        deployment.save(update_fields=["crash_count", "backoff_until", "updated_at"])


def already_recorded(docker_id: str, finished_at: str, started_at: str = "") -> bool:
    """Whether this death (the container's id and when it finished, or when it had started) already has its event.

    A container Docker restarts by its restart policy dies again with the same id but later times. The
    start time tells one death apart too: a death recorded from its ``die`` event carries the event's time,
    a few ms off the finish time the engine keeps, but the same start time.
    """
    died = Event.objects.filter(kind="container.died", container_docker_id=docker_id)
    for after in died.values_list("after", flat=True):
        after = after or {}
        if after.get("finished_at", "") == finished_at or (started_at and after.get("started_at") == started_at):
            return True
    return False


def _settled(deployment: Deployment, rows: dict[str, Container], now: datetime) -> bool:
    """Every current container has been running for longer than the crash window."""
    window = timedelta(seconds=settings.CRASH_WINDOW_S)
    current = [r for r in rows.values() if r.generation == deployment.generation]
    return bool(current) and all(
        r.status == "running" and r.started_at is not None and now - r.started_at >= window for r in current
    )


def _apply(
    deployment: Deployment,
    current_plan: Plan,
    rows: dict[str, Container],
    outcome: Outcome,
    vacated: Collection[int] = (),
) -> None:
    """Run the plan's engine calls in parallel, then write rows and events from this thread. A new
    container takes a slot a dead one left (``vacated``) or else the lowest free one."""
    if current_plan.create:
        pin_image(deployment)
    specs = [container_spec(deployment) for _ in range(current_plan.create)]
    workers = max(1, min(settings.RECONCILE_PARALLELISM, len(specs) + len(current_plan.remove)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reconcile") as pool:
        # The new containers start first: they wait for nothing, while removals are announced first
        # (before_container_stop drains them in the load balancer), so a replacement never waits for that.
        create_futures = [(s, pool.submit(engine.run_container, s)) for s in specs]
        mark_removing([r.container_id for r in current_plan.remove])
        removal_futures = [(r, pool.submit(_stop_and_remove, deployment, r)) for r in current_plan.remove]

    for removal, future in removal_futures:
        row = rows.pop(removal.container_id, None)
        error = future.exception()
        if isinstance(error, engine.EngineUnavailable):
            raise error
        if error is not None:
            log.warning("removing %s failed: %s", removal.container_id, error)
            if row is not None:  # still there, still holding its slot
                rows[removal.container_id] = row
            continue
        if row is not None:
            row.delete()
        outcome.removed.append(removal.container_id)
        record(
            "container.removed",
            actor=ACTOR,
            deployment=deployment,
            container_docker_id=removal.container_id,
            message=f"{row.name if row else removal.container_id[:12]} removed ({removal.reason})",
        )

    now = timezone.now()
    started_ok = sum(1 for _, started in create_futures if started.exception() is None)
    # A new container of the current generation takes a dead one's slot, else that of an old-generation
    # container it replaces (a rolling update keeps the numbers; the two share it until the old one goes).
    current = {r.docker_id: r for r in rows.values() if r.generation == deployment.generation}
    outgoing = held_slots(rows) - held_slots(current)
    slots = iter(assign_slots(started_ok, held_slots(current), [*sorted(vacated), *sorted(outgoing)]))
    for spec, started in create_futures:
        error = started.exception()
        if error is not None:
            _record_create_failure(deployment, spec, error, outcome)
            continue
        detail = started.result()
        slot = next(slots)
        row = Container.objects.create(
            deployment=deployment,
            docker_id=detail.info.id,
            name=detail.info.name,
            generation=deployment.generation,
            status=detail.info.state,
            host_port=detail.info.host_port,
            started_at=detail.started_at or now,
            slot=slot,
            restart_count=slot_restarts(deployment, slot),
        )
        rows[row.docker_id] = row
        outcome.created.append(row)
        record(
            "container.started",
            actor=ACTOR,
            deployment=deployment,
            container_docker_id=row.docker_id,
            message=f"{row.name} started in slot {slot}" + (f" on 127.0.0.1:{row.host_port}" if row.host_port else ""),
        )


def _stop_and_remove(deployment: Deployment, removal: Removal) -> None:
    """A live container gets SIGTERM and ``stop_grace_s`` before SIGKILL; a dead one is just removed."""
    grace = deployment.stop_grace_s if removal.reason != "exited" else 0
    engine.remove_container(removal.container_id, grace_s=grace)


def _record_create_failure(
    deployment: Deployment, spec: engine.ContainerSpec, error: BaseException, outcome: Outcome
) -> None:
    if isinstance(error, engine.EngineUnavailable):
        raise error
    # A container that could not start counts as a crash, so a broken spec backs off.
    outcome.failed.append(str(error))
    # Docker may have created it before failing to start it; don't leave it behind.
    try:
        engine.remove_container(spec.name)
    except engine.EngineError:
        pass
    count_crashes(deployment, 1, actor=ACTOR, now=timezone.now())
    deployment.last_error = str(error)[:2000]
    Deployment.objects.filter(pk=deployment.pk).update(last_error=deployment.last_error)
    record("container.start_failed", actor=ACTOR, deployment=deployment, message=str(error)[:2000])


def count_crash(deployment: Deployment, *, actor: str, reason: str) -> float:
    """Count one crash outside a converge (e.g. a liveness probe's restart) toward crash-loop backoff."""
    return count_crashes(deployment, 1, actor=actor, now=timezone.now(), reason=reason)


def count_crashes(deployment: Deployment, crashes: int, *, actor: str, now: datetime, reason: str = "") -> float:
    """The one place crash-loop backoff is counted: add ``crashes`` to the deployment's crashes in a row and
    hold new starts back by :func:`backoff_delay` of the total (a ``deployment.backoff`` event says until when).

    Returns the delay set (0 when none). The increment is one UPDATE, so a concurrent count (a converge
    and a probe's restart) is not lost; ``deployment`` is brought up to date in memory.
    """
    Deployment.objects.filter(pk=deployment.pk).update(crash_count=F("crash_count") + crashes)
    deployment.refresh_from_db(fields=["crash_count"])
    delay = backoff_delay(deployment.crash_count)
    deployment.backoff_until = now + timedelta(seconds=delay) if delay else None
    Deployment.objects.filter(pk=deployment.pk).update(backoff_until=deployment.backoff_until, updated_at=now)
    if delay:
        why = f" ({reason})" if reason else ""
        record(
            "deployment.backoff",
            actor=actor,
            deployment=deployment,
            message=f"{deployment.crash_count} crashes in a row{why}: next start in {delay:.0f}s",
            before={"crash_count": deployment.crash_count - crashes},
            after={"crash_count": deployment.crash_count, "delay_s": delay},
        )
    return delay


def _update_state(deployment: Deployment, now: datetime) -> None:
    rows = list(deployment.containers.all())
    running = sum(1 for r in rows if r.status == "running" and r.generation == deployment.generation)
    if deployment.replicas == 0 and not rows:
        state = Deployment.State.STOPPED
    elif deployment.in_backoff(now):
        state = Deployment.State.BACKOFF
    elif running == deployment.replicas == len(rows):
        state = Deployment.State.RUNNING
    else:
        state = Deployment.State.CONVERGING
    if state != deployment.state:
        before = deployment.state
        Deployment.objects.filter(pk=deployment.pk).update(state=state, updated_at=now)
        deployment.state = state
        record(
            "deployment.state",
            actor=ACTOR,
            deployment=deployment,
            message=f"{deployment.name} is {state}",
            before={"state": before},
            after={"state": state},
        )
    if state == Deployment.State.RUNNING and deployment.last_error:
        Deployment.objects.filter(pk=deployment.pk).update(last_error="")


def mark_removing(docker_ids: Sequence[str]) -> None:
    """Say that the orchestrator itself is about to remove these containers: their rows read
    ``removing`` (so the watcher does not answer the engine's ``die``/``destroy`` of our own removal
    with another converge), and the ``before_container_stop`` hook is told."""
    if not docker_ids:
        return
    Container.objects.filter(docker_id__in=docker_ids).update(status=Container.Status.REMOVING)
    hooks.stopping(docker_ids)


def converge_all() -> int:
    """One tick: converge every deployment not already being reconciled, check the readiness of their containers
    not ready yet, and sweep orphans."""
    converged = [
        pk for pk in Deployment.objects.values_list("pk", flat=True) if converge(pk, blocking=False) is not None
    ]
    # Then, outside their locks, the readiness of what runs unready in them: one query finds which have any.
    waiting = Container.objects.filter(
        deployment_id__in=converged, status=Container.Status.RUNNING, ready_at__isnull=True
    ).values_list("deployment_id", flat=True)
    for pk in sorted(set(waiting)):
        check_readiness(pk)
    remove_orphans()
    return len(converged)


def remove_orphans() -> list[str]:
    """Remove our containers whose deployment no longer exists (deleted while the engine was down)."""
    removed = []
    for info in engine.list_containers(engine.instance_labels()):
        deployment_id = info.deployment_id
        if deployment_id is None:
            continue
        # Checked under the lock: a deployment created a moment ago is not an orphan.
        with deployment_lock(deployment_id, blocking=False) as acquired:
            if not acquired or Deployment.objects.filter(pk=deployment_id).exists():
                continue
            mark_removing([info.id])
            engine.remove_container(info.id)
        record(
            "container.orphan_removed",
            actor=ACTOR,
            container_docker_id=info.id,
            message=f"{info.name} belonged to deleted deployment {deployment_id}",
        )
        removed.append(info.id)
    remove_orphan_networks()
    return removed


def remove_orphan_networks() -> list[str]:
    """Remove our deployment networks whose deployment no longer exists."""
    removed = []
    for name in engine.list_networks(engine.instance_labels()):
        deployment_id = name.rsplit("-d", 1)[-1]
        if not deployment_id.isdigit() or Deployment.objects.filter(pk=int(deployment_id)).exists():
            continue
        try:
            engine.remove_network(name)
        except engine.EngineError as exc:  # still in use by a container being removed: next tick
            log.info("network %s not removed yet: %s", name, exc)
            continue
        removed.append(name)
    return removed
