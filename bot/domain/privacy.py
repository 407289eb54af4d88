"""Which message text the database keeps: one rule for live messages, edits and imports."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.records import ContentPolicy


def kept_text(
    text: str | None,
    policy: ContentPolicy,
    *,
    counted: bool,
    is_question: Callable[[str], bool],
) -> str | None:
    """``all`` keeps any text, ``none`` nothing, ``questions`` a counted question's text.

    ``is_question`` is asked only when the answer matters (the detector is not free).
    """
    if not text:
        return None
    if policy is ContentPolicy.ALL:
        return text
    if policy is ContentPolicy.NONE or not counted:
        return None
    return text if is_question(text) else None
