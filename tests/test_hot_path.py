"""The hot path's shortcuts give exactly what the plain versions would."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.heap import YOUNG_GC_THRESHOLD, settle_heap
from bot.domain.records import amended
from bot.domain.snowflakes import snowflake_time
from storage.apply import _MESSAGE_COLUMNS, _message_row, _message_values
from storage.tables import to_millis
from tests.test_writer import T0, msg


def test_the_sqlite_fast_insert_writes_what_the_sql_layer_would() -> None:
    record = msg(
        3,
        thread_id=77,
        reply_to_id=5,
        is_bot=True,
        mention_user_ids=(1, 2, 2),
        mention_role_ids=(9,),
        mentions_everyone=True,
        edited_at=T0 + timedelta(minutes=1),
        content="a\x00b",
        author_is_staff=True,
    )
    row = _message_row(record)
    row["created_at"] = to_millis(row["created_at"])
    row["edited_at"] = to_millis(row["edited_at"])
    assert dict(zip(_MESSAGE_COLUMNS, _message_values(record), strict=True)) == row


@pytest.mark.parametrize("content", [None, "kept"])
def test_amended_is_replace_for_the_policy_fields(content: str | None) -> None:
    record = msg(4, thread_id=9, reply_to_id=2, mention_user_ids=(3,), content="original")
    changes = {"counted": False, "content": content, "inferred_reply_to_id": 77}
    assert amended(record, **changes) == replace(record, **changes)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_a_snowflakes_time_is_discord_pys(snowflake: int) -> None:
    assert snowflake_time(snowflake) == discord.utils.snowflake_time(snowflake)


@pytest.fixture
def gc_state() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("gc_state")
def test_a_settled_heap_keeps_what_is_alive_out_of_collections() -> None:
    gc.set_threshold(700, 10, 10)
    cache = [{"member": i} for i in range(1000)]
    settle_heap()
    assert gc.get_freeze_count() >= len(cache)
    assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, 10, 10)
    frozen = gc.get_freeze_count()
    settle_heap()  # the next session: what was frozen is collected and frozen again
    assert gc.get_freeze_count() <= frozen + 100
