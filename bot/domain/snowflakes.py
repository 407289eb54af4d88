"""Discord snowflakes carry their creation time; range queries use that to stay bounded."""

from __future__ import annotations

from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_time(snowflake: int) -> datetime:
    """The moment a snowflake was made, as an aware UTC datetime (as discord.py's own, in about
    half its time: it runs for every message)."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


def snowflake_at(moment: datetime, *, high: bool = False) -> int:
    """The smallest (or with ``high``, the largest) snowflake that ``moment`` can produce."""
    if moment.tzinfo is None:
        raise ValueError("snowflake_at needs an aware datetime")
    millis = int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS
    value = max(millis, 0) << 22
    return value + (2**22 - 1) if high else value
