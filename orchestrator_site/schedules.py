"""Beat schedules that cost nothing while there is nothing to do.

A plain interval schedule sends its task every interval whether or not there is work: a probe tick
every second means a broker message, a worker wake-up and its queries every second on a fleet with
no probe at all. :class:`gated` asks a cheap question first ("is there any probe?") at most every
``recheck_s`` seconds, in beat itself, and sends nothing while the answer is no.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery.schedules import schedstate, schedule

log = logging.getLogger(__name__)


class gated(schedule):  # noqa: N801 (named like celery's own ``schedule`` and ``crontab``)
    """An interval schedule that is due only while ``has_work`` (dotted path to a function of no
    arguments returning a bool) says there is work; asked at most every ``recheck_s`` seconds.

    Work that appears is picked up within ``recheck_s``. A question that fails (database briefly
    away) counts as "yes": the task then runs and decides for itself, as it would without the gate.
    """

    def __init__(
        self,
        run_every: float | timedelta | None = None,
        has_work: str = "",
        recheck_s: float = 5.0,
        relative: bool = False,
        nowfun: Callable[[], datetime] | None = None,
        app: Any = None,
    ) -> None:
        super().__init__(run_every, relative, nowfun, app)
        self.has_work = has_work
        self.recheck_s = recheck_s
        self._asked_at = float("-inf")
        self._work = True

    def work(self) -> bool:
        # Imported here: settings import this module, before Django is set up.
        from django.db import close_old_connections
        from django.utils.module_loading import import_string

        now = time.monotonic()
        if now - self._asked_at >= self.recheck_s:
            self._asked_at = now
            try:
                close_old_connections()  # beat holds its connection for days; drop a broken or old one
                self._work = bool(import_string(self.has_work)())
            except Exception:
                log.warning("could not ask %s; running the task anyway", self.has_work, exc_info=True)
                self._work = True
        return self._work

    def is_due(self, last_run_at: datetime) -> tuple[bool, float]:
        if not self.work():
            return schedstate(is_due=False, next=self.recheck_s)
        return super().is_due(last_run_at)

    def __repr__(self) -> str:
        return f"<freq: {self.human_seconds}, while {self.has_work}>"

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:  # type: ignore[override]
        # beat keeps its entries in a shelve file: pickle the gate's arguments too
        return self.__class__, (self.run_every, self.has_work, self.recheck_s, self.relative, self.nowfun)
