"""Summary runs: the database claim that makes each weekly summary post exactly once.

Whoever inserts the ``(guild, kind, period start)`` row posts; every other process, and the same
process after a restart, sees the row and does not. A failed run is retried by whoever wins the
compare-and-set on its attempt count, after a back-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.summaries import SummaryKind, retry_at
from storage.statements import SUMMARY_RUNS, insert_new

_R = SUMMARY_RUNS.c


@dataclass(frozen=True, slots=True)
class SummaryRunRow:
    run_id: int
    guild_id: int
    kind: SummaryKind
    period_start: datetime
    period_end: datetime
    state: str
    attempts: int
    claimed_by: str
    claimed_at: datetime
    posted_at: datetime | None
    channel_id: int | None
    message_id: int | None
    error: str | None


class SummaryRuns:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def claim(
        self,
        guild_id: int,
        kind: SummaryKind,
        period_start: datetime,
        period_end: datetime,
        claimed_by: str,
        now: datetime,
        *,
        stale_after: timedelta | None = None,
    ) -> int | None:
        """The run's id if this caller may post it now; None if it is someone else's (or done).

        A new period is claimed by inserting its row. A failed run may be claimed again once its
        back-off has passed, by the one caller whose update finds the attempt count unchanged.
        """
        async with self.engine.begin() as conn:
            inserted = await conn.execute(
                insert_new(conn.dialect.name, SUMMARY_RUNS, "id"),
                {
                    "guild_id": guild_id,
                    "kind": kind.value,
                    "period_start": period_start,
                    "period_end": period_end,
                    "state": "claimed",
                    "claimed_at": now,
                    "claimed_by": claimed_by,
                    "attempts": 1,
                },
            )
            new = inserted.first()
            if new is not None:
                return int(new[0])
            row = (
                await conn.execute(
                    select(_R.id, _R.state, _R.attempts, _R.claimed_at).where(
                        _R.guild_id == guild_id,
                        _R.kind == kind.value,
                        _R.period_start == period_start,
                    )
                )
            ).first()
            if row is None:
                return None
            if row.state == "failed":
                due = retry_at(row.attempts, row.claimed_at)
                if due is None or due > now:
                    return None
            elif row.state == "claimed" and stale_after is not None:
                # Claimed by a process that stopped before posting: someone must finish it.
                if row.claimed_at > now - stale_after:
                    return None
            else:
                return None
            again = await conn.execute(
                update(SUMMARY_RUNS)
                .where(_R.id == row.id, _R.state == row.state, _R.attempts == row.attempts)
                .values(
                    state="claimed",
                    attempts=row.attempts + 1,
                    claimed_at=now,
                    claimed_by=claimed_by,
                )
            )
            return int(row.id) if again.rowcount else None

    async def posted(self, run_id: int, channel_id: int, message_id: int, now: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(SUMMARY_RUNS)
                .where(_R.id == run_id)
                .values(
                    state="posted",
                    posted_at=now,
                    channel_id=channel_id,
                    message_id=message_id,
                    error=None,
                )
            )

    async def failed(self, run_id: int, error: str, now: datetime) -> SummaryRunRow:
        """Record a failure (the error in words, never a secret); returns the run as it is now."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(SUMMARY_RUNS)
                .where(_R.id == run_id)
                .values(state="failed", error=error[:500], claimed_at=now)
            )
        run = await self.run(run_id)
        if run is None:
            raise LookupError(f"summary run {run_id} vanished (its guild's data was erased?)")
        return run

    async def skipped(self, run_id: int, reason: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(SUMMARY_RUNS)
                .where(_R.id == run_id)
                .values(state="skipped", error=reason[:500])
            )

    async def run(self, run_id: int) -> SummaryRunRow | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(SUMMARY_RUNS).where(_R.id == run_id))).first()
        return _row(row) if row is not None else None

    async def runs(self, guild_id: int) -> list[SummaryRunRow]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(SUMMARY_RUNS)
                .where(_R.guild_id == guild_id)
                .order_by(_R.period_start, _R.kind)
            )
            return [_row(row) for row in rows]

    async def failed_runs(self, guild_ids: list[int]) -> list[SummaryRunRow]:
        """Failed runs that may still be retried (the caller checks the back-off)."""
        if not guild_ids:
            return []
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(SUMMARY_RUNS).where(_R.guild_id.in_(guild_ids), _R.state == "failed")
            )
            return [_row(row) for row in rows]


def _row(r: Any) -> SummaryRunRow:
    return SummaryRunRow(
        run_id=r.id,
        guild_id=r.guild_id,
        kind=SummaryKind(r.kind),
        period_start=r.period_start,
        period_end=r.period_end,
        state=r.state,
        attempts=r.attempts,
        claimed_by=r.claimed_by,
        claimed_at=r.claimed_at,
        posted_at=r.posted_at,
        channel_id=r.channel_id,
        message_id=r.message_id,
        error=r.error,
    )
