"""The hot path's shortcuts give exactly what the plain versions would."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain.records import amended
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
