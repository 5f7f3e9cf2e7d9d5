"""Gated beat schedules: no task is sent while there is nothing to do, and work that appears is picked up."""

from __future__ import annotations

import pickle
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from conftest import deploy
from orchestrator_site.schedules import gated

WORK = {"there": False, "asked": 0}


def there_is_work() -> bool:
    WORK["asked"] += 1
    return WORK["there"]


def broken() -> bool:
    raise RuntimeError("database away")


@pytest.fixture(autouse=True)
def _reset() -> None:
    WORK.update(there=False, asked=0)


def test_it_is_never_due_while_there_is_no_work() -> None:
    tick = gated(1.0, f"{__name__}.there_is_work", recheck_s=5.0)
    long_ago = timezone.now() - timedelta(hours=1)

    due, next_check = tick.is_due(long_ago)

    assert (due, next_check) == (False, 5.0)


def test_it_asks_at_most_once_per_recheck_interval() -> None:
    tick = gated(1.0, f"{__name__}.there_is_work", recheck_s=60.0)
    for _ in range(100):
        tick.is_due(timezone.now())
    assert WORK["asked"] == 1


def test_work_that_appears_is_picked_up_within_the_recheck_interval() -> None:
    tick = gated(1.0, f"{__name__}.there_is_work", recheck_s=0.0)
    long_ago = timezone.now() - timedelta(hours=1)
    assert tick.is_due(long_ago)[0] is False

    WORK["there"] = True

    assert tick.is_due(long_ago)[0] is True
    assert tick.is_due(timezone.now())[0] is False  # then it runs on its interval as before


def test_a_question_that_fails_runs_the_task_anyway() -> None:
    tick = gated(1.0, f"{__name__}.broken", recheck_s=5.0)
    assert tick.is_due(timezone.now() - timedelta(hours=1))[0] is True


def test_it_survives_beats_shelve_with_its_gate() -> None:
    tick = gated(2.0, f"{__name__}.there_is_work", recheck_s=7.0)

    copy = pickle.loads(pickle.dumps(tick))

    assert (copy.run_every, copy.has_work, copy.recheck_s) == (tick.run_every, tick.has_work, 7.0)


def gated_entries() -> list[tuple[str, Any]]:
    entries = settings.CELERY_BEAT_SCHEDULE.items()
    return [(name, entry) for name, entry in entries if isinstance(entry["schedule"], gated)]


def test_the_probe_and_autoscale_ticks_are_gated() -> None:
    assert {name for name, _ in gated_entries()} >= {"health-probes", "health-autoscale"}


@pytest.mark.django_db
def test_each_gate_answers_no_on_an_empty_fleet_and_yes_once_its_work_exists(demo_image: Any) -> None:
    from health.models import Autoscaler, Probe

    for _, entry in gated_entries():
        assert import_string(entry["schedule"].has_work)() is False

    deployment = deploy(demo_image, "gated", replicas=0, converge=False)
    Probe.objects.create(deployment=deployment, kind=Probe.Kind.LIVENESS)
    Autoscaler.objects.create(deployment=deployment, min_replicas=1, max_replicas=2)

    for _, entry in gated_entries():
        assert import_string(entry["schedule"].has_work)() is True
