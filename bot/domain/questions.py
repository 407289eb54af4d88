"""Which messages are questions (METRICS.md, "Questions and responses").

The place decides first: the opening message of a forum post and any message in a help
channel are questions whatever they say. Elsewhere the text decides, and the detector is
precise rather than eager: a question left out of the inbox costs less than an inbox full of
greetings and jokes. It runs on every message that the bot ingests, so all its patterns are
compiled once and a message is read in a few passes.
"""

from __future__ import annotations

import re
import re._constants as _c
import re._parser as _parser
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain import question_phrases as phrases

_CODE_BLOCK = re.compile(r"```.*?(```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
# ">>> " quotes the rest of the message; "> " quotes one line.
_QUOTE_BLOCK = re.compile(r"^\s*>>>.*", re.MULTILINE | re.DOTALL)
_QUOTE_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)
# A URL ends before the punctuation of the sentence around it: "is it https://x.org/a?"
# still asks, while "?" inside the URL ("search?q=...") is part of the address.
_URL = re.compile(r"<?https?://[^\s<>]*[^\s<>.,;:!?)\]'\"]>?")


class QuestionSource(StrEnum):
    """Why a message counts as a question."""

    FORUM_POST = "forum_post"  # the opening message of a forum post: always a question
    HELP_CHANNEL = "help_channel"  # any message in a help channel: always
    FLAGGED = "flagged"  # a moderator used "Flag as question"
    DETECTED = "detected"  # the text detector said so
    MENTION = "mention"  # a mention of staff or the bot asking for help


@dataclass(frozen=True, slots=True)
class QuestionContext:
    """What the detector knows of a message besides its text."""

    forum_post_opening: bool = False
    help_channel: bool = False
    author_is_staff: bool = False
    # The message mentions the bot, a staff member or a staff role.
    mentions_staff_or_bot: bool = False


def _without_code_and_quotes(text: str) -> str:
    for pattern in (_CODE_BLOCK, _INLINE_CODE, _QUOTE_BLOCK, _QUOTE_LINE):
        text = pattern.sub(" ", text)
    return text


def visible_text(text: str) -> str:
    """The author's own words: without code, quoted lines and URLs."""
    return _URL.sub(" ", _without_code_and_quotes(text))


# User and role mentions (<@1>, <@&2>) address someone, custom emoji (<:name:3>) and
# :shortcodes: decorate: none says anything about asking. A channel mention (<#4>) or a URL
# can be the subject of a sentence ("<#4> has the answer"), so each stays a word.
_MARKUP_TOKEN = re.compile(r"<(?:@[!&]?|a?:\w+:)\d+>|:\w+:")
_CHANNEL = re.compile(r"<#\d+>")
# Bold, italics, strike-through, spoilers, headings and subtext wrap words without changing them.
_MARKDOWN = re.compile(r"\*+|~~|\|\||^[ \t]*(?:-#|#{1,3})[ \t]", re.MULTILINE)
_SPACES = re.compile(r"[ \t]+")
# A clause ends at a line break, or at sentence punctuation followed by a space; "3.12" or
# "discord.py" do not end one.
_CLAUSE = re.compile(r"[^.!?…:;\n]+(?:[.!?…:;]+(?=\S)[^.!?…:;\n]*)*[.!?…:;]*")
# "¿a quién le importa? jaja": laughter just after the question mark belongs to the question.
_LAUGH_AFTER = re.compile(rf"([?!]+)[ \t]*({phrases.LAUGHTER})(?!\w)")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_PHATIC = re.compile(rf"(?:{'|'.join(phrases.PHATIC)})(?!\w)")
_RHETORICAL = re.compile(rf"(?:{'|'.join(phrases.RHETORICAL)})(?!\w)")
_WH_WORD = re.compile(r"(?:how|what|who|why|where|when|which)\b")
_EVEN = re.compile(r"\beven\b")
_REQUEST = re.compile(rf"(?<!\w){phrases.REQUEST}(?!\w)")
_LEADING_PATTERNS = tuple(
    f"(?:{pattern})(?!\\w)"
    for group in (
        phrases.ENGLISH,
        phrases.SPANISH,
        phrases.GERMAN,
        phrases.FRENCH,
        phrases.PORTUGUESE,
        phrases.DUTCH,
        phrases.SWEDISH,
        phrases.DANISH,
        phrases.FINNISH,
    )
    for pattern in group
) + tuple(
    # A determiner with its language's pronoun or verb within the next few words; "which is
    # why" and "what I did" are not questions.
    rf"(?:{determiner}) (?!(?:i|you|we|they|he|she)\b)(?:\S+ ){{0,3}}?(?:{cues})(?!\w)"
    for determiner, cues in phrases.DETERMINERS
)


class FirstCharIndex:
    """``re.match`` of an alternation of many patterns, tried only with the patterns that can
    start with the text's first character: the detector runs on every message, and one regular
    expression of every language's phrases tries each of its hundreds of branches in turn."""

    def __init__(self, patterns: Sequence[str]) -> None:
        anywhere: list[str] = []
        starting: dict[str, list[str]] = {}
        for pattern in patterns:
            chars = _first_chars(pattern)
            if chars is None:
                anywhere.append(pattern)
                for known in starting.values():
                    known.append(pattern)
                continue
            for char in chars:
                starting.setdefault(char, list(anywhere)).append(pattern)
        self._by_char = {char: re.compile("|".join(group)) for char, group in starting.items()}
        self._other = re.compile("|".join(anywhere)) if anywhere else None

    def match(self, text: str) -> re.Match[str] | None:
        pattern = self._by_char.get(text[:1], self._other)
        return pattern.match(text) if pattern is not None else None

    def fullmatch(self, text: str) -> re.Match[str] | None:
        pattern = self._by_char.get(text[:1], self._other)
        return pattern.fullmatch(text) if pattern is not None else None


def _first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of ``pattern`` can start with; None: any, or it can be empty."""
    chars, empty = _starts(_parser.parse(pattern))
    return None if chars is None or empty else frozenset(chars)


def _starts(items: Any) -> tuple[set[str] | None, bool]:
    """The characters a match of a parsed pattern can start with (None: any), and whether it
    can match the empty string."""
    chars: set[str] | None = set()
    for op, arg in items:
        if op is _c.LITERAL:
            first: set[str] | None = {chr(arg)}
            empty = False
        elif op is _c.IN:
            first, empty = _charset(arg), False
        elif op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            first, empty = set(), True  # zero width
        elif op is _c.SUBPATTERN and not (arg[1] or arg[2]):  # a group without flags
            first, empty = _starts(arg[3])
        elif op is _c.BRANCH:
            first, empty = set(), False
            for branch in arg[1]:
                branch_first, branch_empty = _starts(branch)
                first = None if first is None or branch_first is None else first | branch_first
                empty = empty or branch_empty
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            first, empty = _starts(arg[2])
            empty = empty or arg[0] == 0
        else:
            return None, True  # anything else: assume it could start anywhere
        chars = None if chars is None or first is None else chars | first
        if not empty:
            return chars, False
    return chars, True


def _charset(items: Any) -> set[str] | None:
    chars: set[str] = set()
    for kind, value in items:
        if kind is _c.LITERAL:
            chars.add(chr(value))
        elif kind is _c.RANGE and value[1] - value[0] < 256:
            chars.update(map(chr, range(value[0], value[1] + 1)))
        else:
            return None  # negated sets, categories, wide ranges
    return chars


_LEADING = FirstCharIndex(_LEADING_PATTERNS)
# Tried only on words and clauses that can start them (most cannot).
_LAUGH = FirstCharIndex([phrases.LAUGHTER])
_FILLER = FirstCharIndex([phrases.FILLER])
# Words left over after a greeting or a rhetorical phrase: "how's everyone doing?" is a
# greeting, "how's everyone finding the new update?" is not.
_PHATIC_TAIL = 2
_RHETORICAL_TAIL = 3


def _plain(text: str) -> str:
    """The author's own words, lower-cased and without markup; each step runs only when the
    characters it looks for are there, as most messages are a short line of plain words."""
    if "`" in text or ">" in text:
        text = _without_code_and_quotes(text)
    if "://" in text:
        text = _URL.sub(" link ", text)
    if "<" in text or ":" in text:
        text = _CHANNEL.sub(" channel ", _MARKUP_TOKEN.sub(" ", text))
    if "*" in text or "~" in text or "|" in text or "#" in text:
        text = _MARKDOWN.sub(" ", text)
    text = text.lower().replace("’", "'")
    if "  " in text or "\t" in text:
        text = _SPACES.sub(" ", text)
    mark = _first_mark(text)
    # Searched from the first "?" or "!" (where any match starts) before substituting.
    if mark >= 0 and _LAUGH_AFTER.search(text, mark) is not None:
        text = _LAUGH_AFTER.sub(_laugh_first, text)
    return text


def _first_mark(text: str) -> int:
    """Where the first "?" or "!" is, or -1."""
    question, bang = text.find("?"), text.find("!")
    return bang if question < 0 or 0 <= bang < question else question


def _laugh_first(found: re.Match[str]) -> str:
    """The replacement r" \\2\\1" as a function: a template is parsed again on every call."""
    return f" {found[2]}{found[1]}"


def _is_laugh(word: str) -> bool:
    """Laughter ("lol", "jajaja", "😂")."""
    return _LAUGH.fullmatch(word) is not None


def _words(text: str) -> list[str]:
    return [word for word in _WORD.findall(text) if not _is_laugh(word)]


def _has_words(text: str, count: int) -> bool:
    """At least ``count`` words besides laughter, reading no further than needed."""
    for word in _WORD.finditer(text):
        if not _is_laugh(word[0]):
            count -= 1
            if count == 0:
                return True
    return False


def _set_phrase(pattern: re.Pattern[str], clause: str, tail: int) -> bool:
    """The clause is this set phrase, give or take ``tail`` words ("how are you all?")."""
    found = pattern.match(clause)
    return found is not None and len(_words(clause[found.end() :])) <= tail


def _rhetorical(clause: str) -> bool:
    """Said for effect rather than asked: a joke, hype, disbelief or small talk."""
    if "?!" in clause or "!?" in clause:
        return True  # "who's hyped?!": an exclamation
    last = clause.rstrip(" ?!.¿").rpartition(" ")[2]
    if _is_laugh(last):
        return True  # "does it matter lol", "why would you pick that 💀"
    if _WH_WORD.match(clause) and _EVEN.search(clause):
        return True  # "who even cares", "how is that even possible"
    return _set_phrase(_PHATIC, clause, _PHATIC_TAIL) or _set_phrase(
        _RHETORICAL, clause, _RHETORICAL_TAIL
    )


def _without_filler(clause: str) -> str:
    clause = clause.lstrip(" ¿¡")
    if (start := _FILLER.match(clause)) is not None:
        clause = clause[start.end() :].lstrip(" ¿¡")
    return clause


def _clause_asks(clause: str) -> bool:
    if "?" in clause or "¿" in clause:
        clause = _without_filler(clause)
        # One word with a question mark is an interjection: "what?", "really?", "lol?".
        return _has_words(clause, 2) and not _rhetorical(clause)
    # Without a question mark the question may still follow a comma: "can't find the form,
    # where is it". The rest of the clause from there decides whether it is rhetorical.
    if ", " not in clause:  # most clauses: one part
        clause = _without_filler(clause)
        return _LEADING.match(clause) is not None and not _rhetorical(clause)
    parts = clause.split(", ")
    for i, part in enumerate(parts):
        part = _without_filler(part)
        if _LEADING.match(part) is not None:
            return not _rhetorical(", ".join([part, *parts[i + 1 :]]))
    return False


def _text_asks(text: str) -> bool:
    for clause in _CLAUSE.findall(_plain(text)):  # noqa: SIM110 - a loop costs less than any()
        if _clause_asks(clause):
            return True
    return False


def classify_question(
    text: str | None, context: QuestionContext = QuestionContext()
) -> QuestionSource | None:
    """Why this message is a question, or None when it is not one (METRICS.md).

    Staff never ask: their messages are answers, announcements or moderation. The place
    comes before the text, and the text before a mention, so a question asked of staff is
    still DETECTED. FLAGGED is never returned here: a moderator's command sets it.
    """
    if context.author_is_staff:
        return None
    if context.forum_post_opening:
        return QuestionSource.FORUM_POST
    if context.help_channel:
        return QuestionSource.HELP_CHANNEL
    if not text:
        return None
    if _text_asks(text):
        return QuestionSource.DETECTED
    if context.mentions_staff_or_bot and _REQUEST.search(_plain(text)):
        return QuestionSource.MENTION
    return None


def looks_like_question(text: str) -> bool:
    """The text detector alone: a non-staff message in an ordinary watched channel."""
    return classify_question(text) is not None
