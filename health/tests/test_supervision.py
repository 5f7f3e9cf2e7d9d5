"""The supervisor's events in the event log, the processes part of /health/detailed, and "starting"."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from containers.models import Event
from health import checks, supervision
from health.checks import Check
from health.supervision import ProcessInfo, Recorder
from orchestrator_site.processes import heartbeats

pytestmark = pytest.mark.django_db


def info(name: str, state: str = "RUNNING", started_ago_s: float = 100.0) -> ProcessInfo:
    return ProcessInfo(name=name, state=state, pid=4242, started_at=time.time() - started_ago_s, description="")


def test_it_parses_a_process_state_payload() -> None:
    assert supervision.parse_payload("processname:web groupname:web from_state:STARTING pid:42") == {
        "processname": "web",
        "groupname": "web",
        "from_state": "STARTING",
        "pid": "42",
    }


def test_a_first_start_is_no_event_and_an_exit_then_a_start_are_an_exit_and_a_restart() -> None:
    recorder = Recorder()
    recorder.handle("SUPERVISOR_STATE_CHANGE_RUNNING", "")
    recorder.handle("PROCESS_STATE_RUNNING", "processname:worker groupname:worker from_state:STARTING pid:10")
    assert list(Event.objects.values_list("kind", flat=True)) == ["stack.started"]

    recorder.handle("PROCESS_STATE_EXITED", "processname:worker groupname:worker from_state:RUNNING expected:0 pid:10")
    recorder.handle("PROCESS_STATE_RUNNING", "processname:worker groupname:worker from_state:STARTING pid:11")

    exited, restarted = Event.objects.filter(kind__startswith="process.").order_by("id")
    assert (exited.kind, exited.actor, exited.after["process"], exited.after["pid"]) == (
        "process.exited",
        "supervisor",
        "worker",
        10,
    )
    assert (restarted.kind, restarted.after["process"], restarted.after["pid"]) == ("process.restarted", "worker", 11)
    assert "worker is running again (pid 11)" in restarted.message
    assert supervision.restarts_since(supervision.stack_started_at()) == {"worker": 1}


def test_backoff_and_giving_up_are_events() -> None:
    recorder = Recorder()
    recorder.handle("PROCESS_STATE_BACKOFF", "processname:beat groupname:beat from_state:STARTING tries:2")
    recorder.handle("PROCESS_STATE_FATAL", "processname:beat groupname:beat from_state:BACKOFF")

    backoff, fatal = Event.objects.order_by("id")
    assert (backoff.kind, backoff.after) == ("process.backoff", {"process": "beat", "tries": 2})
    assert fatal.kind == "process.fatal" and "tried again every 60s" in fatal.message


def test_stops_during_a_shutdown_are_not_recorded_but_an_operators_stop_is() -> None:
    recorder = Recorder()
    recorder.handle("PROCESS_STATE_STOPPED", "processname:web groupname:web from_state:STOPPING pid:5")
    recorder.handle("SUPERVISOR_STATE_CHANGE_STOPPING", "")
    recorder.handle("PROCESS_STATE_STOPPED", "processname:worker groupname:worker from_state:STOPPING pid:6")

    assert list(Event.objects.values_list("kind", "after")) == [("process.stopped", {"process": "web"})]


def test_the_report_counts_restarts_since_the_stack_started() -> None:
    recorder = Recorder()
    recorder.handle("SUPERVISOR_STATE_CHANGE_RUNNING", "")
    Event.objects.filter(kind="stack.started").update(created_at=timezone.now() - timedelta(minutes=5))
    Event.objects.create(kind="process.restarted", actor="supervisor", after={"process": "web"})
    Event.objects.create(kind="process.restarted", actor="supervisor", after={"process": "web"})
    old = Event.objects.create(kind="process.restarted", actor="supervisor", after={"process": "worker"})
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))  # an earlier run

    report = supervision.report({"web": info("web"), "worker": info("worker", "STARTING", 1.0)})

    assert report["restarts"] == 2
    assert report["programs"]["web"]["restarts"] == 2 and report["programs"]["web"]["uptime_s"] >= 99
    assert report["programs"]["worker"] == {
        "state": "STARTING",
        "pid": 4242,
        "started_at": report["programs"]["worker"]["started_at"],
        "uptime_s": None,
        "restarts": 0,
        "detail": "",
    }


def test_a_process_that_started_lately_and_has_not_reported_is_starting_not_down() -> None:
    heartbeats.beat("watcher")
    infos = {"watcher": info("watcher", "RUNNING", started_ago_s=-1.0)}  # started after its last heartbeat

    check = checks.heartbeat("watcher", started=checks.started_at("watcher", infos))

    assert check.status == "starting"
    assert "has not reported yet" in check.detail


def test_one_that_never_reported_long_after_its_start_is_down() -> None:
    infos = {"watcher": info("watcher", "RUNNING", started_ago_s=3600)}

    assert checks.heartbeat("watcher", started=checks.started_at("watcher", infos)).status == "down"


def test_one_that_reported_since_its_start_is_judged_on_its_report() -> None:
    infos = {"watcher": info("watcher", "RUNNING", started_ago_s=5)}
    heartbeats.beat("watcher")

    assert checks.heartbeat("watcher", started=checks.started_at("watcher", infos)).status == "ok"


def test_beat_and_the_sampler_are_starting_while_the_worker_that_records_them_is() -> None:
    infos = {"beat": info("beat"), "worker": info("worker", "STARTING", 1.0)}

    assert checks.started_at("beat", infos) == infos["worker"].started_at
    assert checks.sampler_check(started=checks.started_at("sampler", infos)).status == "starting"


def test_overall_is_starting_while_every_component_not_ok_is_starting() -> None:
    ok, starting, down = Check("ok", 1, ""), Check("starting", 1, ""), Check("down", 1, "")
    assert checks.overall({"database": ok, "engine": ok, "worker": starting}) == "starting"
    assert checks.overall({"database": ok, "engine": ok, "worker": starting, "beat": down}) == "degraded"
    assert checks.overall({"database": ok, "engine": down, "worker": starting}) == "down"
