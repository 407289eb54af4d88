"""Scheduled jobs (APScheduler 3). Jobs are module-level functions that take ids only.

APScheduler decides *when* a job runs (it reads the real clock); *what* is due is decided by the
services with the bot's injected clock, so job logic is tested with virtual time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 6 * 3600

Task = Callable[[], Awaitable[object]]
_tasks: dict[str, dict[str, Task]] = {}
"""Per running app, the callables its jobs reach by name (jobs themselves keep only ids)."""


def build_scheduler() -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            "max_instances": 1,
        },
    )
    scheduler.add_listener(_report, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return scheduler


def _report(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
    else:
        log.error("job %s failed", event.job_id, exc_info=event.exception)


def register(app_id: str, name: str, task: Task) -> None:
    _tasks.setdefault(app_id, {})[name] = task


def unregister(app_id: str) -> None:
    _tasks.pop(app_id, None)


async def run_task(app_id: str, name: str) -> None:
    """The job function: look the task up by ids and run it."""
    task = _tasks.get(app_id, {}).get(name)
    if task is None:
        log.warning("job %s of app %s has nothing to run (the bot is shutting down?)", name, app_id)
        return
    await task()


def schedule_content_expiry(scheduler: AsyncIOScheduler, app_id: str) -> None:
    """Erase message text past the retention window, daily at a quiet hour."""
    scheduler.add_job(
        run_task,
        CronTrigger(hour=3, minute=17, timezone=UTC),
        args=[app_id, "expire_content"],
        id=f"{app_id}:expire-content",
        replace_existing=True,
    )
