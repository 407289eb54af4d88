"""The scheduler's wiring: jobs by id, listeners, and the content-expiry trigger."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.triggers.cron import CronTrigger

from bot import scheduling


async def test_content_expiry_runs_daily_at_a_quiet_hour() -> None:
    scheduler = scheduling.build_scheduler()
    scheduling.schedule_content_expiry(scheduler, "app")
    job = scheduler.get_job("app:expire-content")
    assert job is not None
    assert job.args == ("app", "expire_content")
    trigger = job.trigger
    assert isinstance(trigger, CronTrigger)
    now = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, now) == datetime(2026, 3, 2, 3, 17, tzinfo=UTC)
    # Rescheduling replaces the job instead of adding a second one.
    scheduling.schedule_content_expiry(scheduler, "app")
    scheduler.start(paused=True)
    try:
        assert [j.id for j in scheduler.get_jobs()] == ["app:expire-content"]
    finally:
        scheduler.shutdown(wait=False)
    assert scheduler._job_defaults["coalesce"] is True


async def test_a_job_reaches_its_task_by_ids() -> None:
    calls: list[str] = []

    async def task() -> None:
        calls.append("ran")

    scheduling.register("app-1", "expire_content", task)
    try:
        await scheduling.run_task("app-1", "expire_content")
    finally:
        scheduling.unregister("app-1")
    await scheduling.run_task("app-1", "expire_content")  # gone: logged, not raised
    assert calls == ["ran"]


@pytest.mark.parametrize(
    ("code", "level", "words"),
    [(EVENT_JOB_MISSED, logging.WARNING, "missed"), (EVENT_JOB_ERROR, logging.ERROR, "failed")],
)
def test_missed_and_failed_jobs_are_logged(
    caplog: pytest.LogCaptureFixture, code: int, level: int, words: str
) -> None:
    event = JobExecutionEvent(
        code,
        "job-1",
        None,
        datetime(2026, 1, 1, tzinfo=UTC),
        exception=RuntimeError("boom") if code == EVENT_JOB_ERROR else None,
    )
    with caplog.at_level(logging.WARNING, logger="bot.scheduling"):
        scheduling._report(event)
    assert [(r.levelno, words in r.getMessage()) for r in caplog.records] == [(level, True)]
