"""``manage.py process_events``: supervisord's event listener (see health/supervision.py).

supervisord starts it (``make run``) and talks to it over stdin/stdout: READY, one event, its
result. So stdout carries only the protocol; logs go to stderr. A failure to record one event is
logged and the event acknowledged anyway: a blocked listener would stall supervisord's queue.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from health import supervision

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Record supervisord's process events (exits, backoffs, restarts) in the event log. Run by supervisord."

    def handle(self, *args: Any, **options: Any) -> None:
        from supervisor import childutils

        if "SUPERVISOR_SERVER_URL" not in os.environ:
            raise CommandError("process_events is an event listener: supervisord runs it (make run)")
        recorder = supervision.Recorder(proxy=supervision.rpc(os.environ["SUPERVISOR_SERVER_URL"], timeout=5))
        while True:
            headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
            try:
                recorder.handle(headers["eventname"], payload)
            except Exception:
                log.exception("could not record %s %r", headers.get("eventname"), payload)
            finally:
                close_old_connections()
            childutils.listener.ok(sys.stdout)
