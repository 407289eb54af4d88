"""The content policy, as a table: which text the database keeps."""

from __future__ import annotations

import pytest

from bot.domain.privacy import kept_text
from bot.domain.records import ContentPolicy

ALL, QUESTIONS, NONE = ContentPolicy.ALL, ContentPolicy.QUESTIONS, ContentPolicy.NONE


def question_mark(text: str) -> bool:
    return "?" in text


@pytest.mark.parametrize(
    ("text", "policy", "counted", "kept"),
    [
        ("hello", ALL, True, "hello"),
        ("hello", ALL, False, "hello"),
        ("why?", NONE, True, None),
        ("why?", QUESTIONS, True, "why?"),
        ("why?", QUESTIONS, False, None),
        ("hello", QUESTIONS, True, None),
        ("", ALL, True, None),
        (None, QUESTIONS, True, None),
    ],
)
def test_kept_text(
    text: str | None, policy: ContentPolicy, counted: bool, kept: str | None
) -> None:
    assert kept_text(text, policy, counted=counted, is_question=question_mark) == kept


def test_the_detector_is_not_asked_when_the_policy_decides() -> None:
    def never(_text: str) -> bool:
        raise AssertionError("asked")

    assert kept_text("x", ALL, counted=True, is_question=never) == "x"
    assert kept_text("x", NONE, counted=True, is_question=never) is None
    assert kept_text("x", QUESTIONS, counted=False, is_question=never) is None
