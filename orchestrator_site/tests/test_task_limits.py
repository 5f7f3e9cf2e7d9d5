"""Every Celery task has a soft and a hard time limit of its own, and the tasks that wait on other
servers (probes, alert deliveries) are routed to their own queue."""

from __future__ import annotations

from django.conf import settings

from orchestrator_site.celery import app


def our_tasks() -> dict[str, object]:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_has_a_soft_and_a_hard_time_limit() -> None:
    tasks = our_tasks()

    assert len(tasks) >= 10
    missing = [name for name, task in tasks.items() if not (task.soft_time_limit and task.time_limit)]
    assert missing == []
    assert all(task.soft_time_limit < task.time_limit for task in tasks.values())


def test_probes_and_alerts_go_to_the_peers_queue_and_reconcile_does_not() -> None:
    route = app.amqp.router.route

    def queue(name: str) -> str:
        return route({}, name)["queue"].name

    assert queue("health.tasks.run_probes") == settings.PEER_QUEUE
    assert queue("health.tasks.deliver_alerts") == settings.PEER_QUEUE
    for name in ("containers.tasks.converge_deployment", "containers.tasks.reconcile_all", "health.tasks.sample"):
        assert queue(name) == settings.CELERY_TASK_DEFAULT_QUEUE != settings.PEER_QUEUE
