"""The pure planner and backoff schedule: no Docker, no database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from containers.reconcile import READY_CHECK_S, Desired, Observed, Plan, backoff_delay, plan, ready_check_delay


def apply(result: Plan, observed: list[Observed], generation: int) -> list[Observed]:
    """What the engine holds after a plan is carried out."""
    removed = {r.container_id for r in result.remove}
    kept = [c for c in observed if c.id not in removed]
    return kept + [Observed(f"new-{i}", generation, True) for i in range(result.create)]


observed_lists = st.lists(
    st.builds(Observed, id=st.uuids().map(str), generation=st.integers(1, 4), alive=st.booleans()),
    max_size=30,
    unique_by=lambda o: o.id,
)


@given(replicas=st.integers(0, 25), generation=st.integers(1, 4), observed=observed_lists)
def test_applying_the_plan_to_any_state_yields_the_desired_state(
    replicas: int, generation: int, observed: list[Observed]
) -> None:
    result = apply(plan(Desired(replicas, generation), observed), observed, generation)
    assert len(result) == replicas
    assert all(c.alive and c.generation == generation for c in result)


@given(replicas=st.integers(0, 25), generation=st.integers(1, 4), observed=observed_lists)
def test_a_plan_never_removes_a_container_twice_or_one_that_is_not_there(
    replicas: int, generation: int, observed: list[Observed]
) -> None:
    removals = [r.container_id for r in plan(Desired(replicas, generation), observed).remove]
    assert len(removals) == len(set(removals))
    assert set(removals) <= {c.id for c in observed}


@given(replicas=st.integers(0, 25), generation=st.integers(1, 4), observed=observed_lists)
def test_a_converged_state_plans_nothing(replicas: int, generation: int, observed: list[Observed]) -> None:
    converged = apply(plan(Desired(replicas, generation), observed), observed, generation)
    assert plan(Desired(replicas, generation), converged).empty


@given(replicas=st.integers(0, 25), generation=st.integers(1, 4), observed=observed_lists)
def test_in_backoff_it_creates_nothing_but_still_clears_the_dead(
    replicas: int, generation: int, observed: list[Observed]
) -> None:
    result = plan(Desired(replicas, generation, can_create=False), observed)
    assert result.create == 0
    assert {c.id for c in observed if not c.alive} <= {r.container_id for r in result.remove}


def test_it_removes_the_newest_surplus_first() -> None:
    observed = [Observed("old", 1, True), Observed("mid", 1, True), Observed("new", 1, True)]
    result = plan(Desired(1, 1), observed)
    assert [r.container_id for r in result.remove] == ["mid", "new"]
    assert {r.reason for r in result.remove} == {"surplus"}


def test_it_replaces_containers_of_an_older_generation() -> None:
    result = plan(Desired(2, 2), [Observed("a", 1, True), Observed("b", 2, True)])
    assert [(r.container_id, r.reason) for r in result.remove] == [("a", "outdated")]
    assert result.create == 1


def test_it_replaces_dead_containers() -> None:
    result = plan(Desired(1, 1), [Observed("dead", 1, False)])
    assert [(r.container_id, r.reason) for r in result.remove] == [("dead", "exited")]
    assert result.create == 1


def test_backoff_replaces_the_first_crash_at_once_then_doubles_up_to_the_cap(settings) -> None:
    settings.BACKOFF_BASE_S = 1.0
    settings.BACKOFF_CAP_S = 30.0
    assert [backoff_delay(n) for n in range(0, 9)] == [0, 0, 1, 2, 4, 8, 16, 30, 30]


def test_a_replacements_readiness_is_checked_sooner_then_less_often_within_the_wait() -> None:
    delays = [ready_check_delay(n, wait_s=3.0) for n in range(5)]
    assert delays == [READY_CHECK_S, 2 * READY_CHECK_S, 4 * READY_CHECK_S, None, None]
    assert ready_check_delay(0, wait_s=0.0) == READY_CHECK_S  # the first check always runs
    assert ready_check_delay(1, wait_s=0.0) is None
