"""The Celery app and its beat schedule (exactly one beat process runs it)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")

app = Celery("orchestrator_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule(sender: Celery, **_: object) -> None:
    from django.conf import settings

    sender.add_periodic_task(settings.RECONCILE_INTERVAL_S, sender.signature("containers.tasks.reconcile_all"), name="reconcile every tick")
    sender.add_periodic_task(settings.HEARTBEAT_INTERVAL_S, sender.signature("health.tasks.beat_tick"), name="beat heartbeat")
