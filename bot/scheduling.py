"""Scheduled jobs (APScheduler 3). Jobs are module-level functions that take ids only.

APScheduler decides *when* a job runs (it reads the real clock); *what* is due is decided by the
services with the bot's injected clock, so job logic is tested with virtual time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.domain.summaries import DEFAULT_GRACE as SUMMARY_GRACE
from bot.domain.summaries import Schedule

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


def schedule_interval(scheduler: AsyncIOScheduler, app_id: str, name: str, seconds: int) -> None:
    """A task that runs every ``seconds`` (the inbox sweep); its state lives in the database."""
    scheduler.add_job(
        run_task,
        IntervalTrigger(seconds=seconds, timezone=UTC),
        args=[app_id, name],
        id=f"{app_id}:{name}",
        replace_existing=True,
        misfire_grace_time=seconds,
    )


def unschedule(scheduler: AsyncIOScheduler, app_id: str, name: str) -> None:
    job = scheduler.get_job(f"{app_id}:{name}")
    if job is not None:
        job.remove()


def summary_trigger(schedule: Schedule) -> CronTrigger:
    """The guild's weekly moment, in its own time zone (APScheduler handles DST)."""
    return CronTrigger(
        day_of_week=schedule.summary_day,
        hour=schedule.summary_time.hour,
        minute=schedule.summary_time.minute,
        timezone=schedule.zone,
    )


def schedule_summaries(
    scheduler: AsyncIOScheduler, app_id: str, guild_id: int, schedule: Schedule
) -> None:
    """(Re)schedule a guild's weekly summaries; called at start and when its settings change."""
    scheduler.add_job(
        run_task,
        summary_trigger(schedule),
        args=[app_id, f"summaries:{guild_id}"],
        id=f"{app_id}:summaries:{guild_id}",
        replace_existing=True,
        misfire_grace_time=int(SUMMARY_GRACE.total_seconds()),
    )


def schedule_once(scheduler: AsyncIOScheduler, app_id: str, name: str, after: timedelta) -> None:
    """Run a registered task once, ``after`` from now (a retry after a back-off)."""
    scheduler.add_job(
        run_task,
        DateTrigger(run_date=datetime.now(UTC) + after),
        args=[app_id, name],
        id=f"{app_id}:{name}",
        replace_existing=True,
    )
