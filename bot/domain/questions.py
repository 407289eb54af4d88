"""Question detection from text (precise rather than eager; see METRICS.md)."""

from __future__ import annotations

import re

_CODE_BLOCK = re.compile(r"```.*?(```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_QUOTE_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)
_URL = re.compile(r"<?https?://\S+>?")


def visible_text(text: str) -> str:
    """The author's own words: without code, quoted lines and URLs."""
    for pattern in (_CODE_BLOCK, _INLINE_CODE, _QUOTE_LINE, _URL):
        text = pattern.sub(" ", text)
    return text


def looks_like_question(text: str) -> bool:
    """A question mark (or ¿) in the author's own words, on something longer than one word."""
    words = visible_text(text)
    if "?" not in words and "¿" not in words:
        return False
    return len(re.findall(r"\w+", words)) >= 2
