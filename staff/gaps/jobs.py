"""Index rebuilds after a FAQ edit, one at a time on a background thread.

A build takes seconds without encoder adaptation and minutes with it, far too long for a
request. Jobs run in order on one daemon thread (the knowledge base's build lock would
serialise them anyway). An edit made while an earlier job is still *queued* joins that
job: the build reads the sources when it starts, so it includes both edits. A daemon
thread is fine to abandon at shutdown: a build writes into a temporary folder and only
publishes a finished version, so an interrupted one leaves the current index in place.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from bot.transcript.models import utcnow

logger = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
KEEP_JOBS = 200


@dataclass
class RebuildJob:
    id: str
    state: str = QUEUED
    created_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    index_version: str | None = None
    edits: int = 1

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id, "state": self.state, "created_at": iso(self.created_at),
            "started_at": iso(self.started_at), "finished_at": iso(self.finished_at),
            "error": self.error, "index_version": self.index_version, "edits": self.edits,
        }


class RebuildJobs:
    """`submit()` returns a job; `get(id)` its current state. `build` returns the version."""

    def __init__(self, build: Callable[[], str], on_done: Callable[[], None] | None = None) -> None:
        self._build = build
        self._on_done = on_done
        self._jobs: dict[str, RebuildJob] = {}
        self._queue: queue.Queue[RebuildJob] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def submit(self) -> RebuildJob:
        with self._lock:
            waiting = next((j for j in self._jobs.values() if j.state == QUEUED), None)
            if waiting is not None:
                waiting.edits += 1
                return waiting
            job = RebuildJob(uuid.uuid4().hex[:16])
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP_JOBS:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].state in (QUEUED, RUNNING):
                    break
                del self._jobs[oldest]
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="faq-index-rebuild", daemon=True)
                self._worker.start()
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> RebuildJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            with self._lock:
                job.state, job.started_at = RUNNING, utcnow()
            try:
                version = self._build()
            except Exception as exc:  # noqa: BLE001 - the page shows why; the old index keeps serving
                logger.exception("FAQ index rebuild %s failed", job.id)
                with self._lock:
                    job.state, job.error, job.finished_at = FAILED, f"{exc.__class__.__name__}: {exc}"[:2000], utcnow()
            else:
                with self._lock:
                    job.state, job.index_version, job.finished_at = DONE, version, utcnow()
                logger.info("FAQ index rebuild %s done: version %s", job.id, version)
            if self._on_done is not None:
                try:
                    self._on_done()
                except Exception:  # noqa: BLE001
                    logger.exception("after-rebuild hook failed")
