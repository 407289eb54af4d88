"""Inferred reply links: which earlier message a new message answers, when nobody used "reply".

The model follows Kummerfeld et al., "A Large-Scale Corpus for Conversation Disentanglement"
(ACL 2019): every message in a window of recent history is a candidate antecedent, and so is the
message itself (a self-link: it starts a new conversation); each candidate is described by a few
binned facts about the pair (distance, time gap, who addresses whom, same author, shared words,
...), a small feedforward network scores it, and the best-scoring candidate wins.

The features mean the same in IRC logs and on Discord: an explicit mention there is an address
by nick here (see `irc_mentions`). Only what a live bot knows when the message arrives is used:
its text, author, time and mentions, and the messages before it. Scores of identical feature
tuples are memoised, so a message costs one pass over the window, a few dictionary lookups per
candidate, and a small sum for each feature tuple not seen lately.
The weights are trained by ``bench/train_linker.py`` and stored next to this module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

WINDOW = 60
"""Candidates considered: the last WINDOW messages (98.7% of the corpus's reply links reach
no further back than 50 messages; the paper used 100, no better on held-out train data)."""

WEIGHTS_FILE = "answer_linker_weights.json"

FIELDS: tuple[tuple[str, int], ...] = (
    # the pair: value 0 is the self-link candidate
    ("distance", 14),
    ("gap", 9),
    ("addressed", 7),
    ("addressed_back", 5),
    ("same_author", 6),
    ("candidate_author_rank", 4),
    ("partner", 6),
    ("overlap", 5),
    ("candidate_kind", 6),
    ("candidate_length", 5),
    ("candidate_opening", 6),
    ("candidate_answered", 4),
    # the message alone, the same for all its candidates
    ("message_kind", 3),
    ("message_length", 4),
    ("message_opening", 5),
    ("author_gap", 5),
    ("channel_gap", 4),
)
"""The categorical features of a (message, candidate) pair and how many values each takes."""

PAIR_FIELDS = 12
_JOINT = ((0, 1), (2, 3, 6), (4, 5, 11), (7, 8, 9, 10))
"""Pair fields whose rows are summed ahead of time, so that scoring a new tuple adds 5 rows."""

_CACHE_LIMIT = 16_384
_MEMO_LIMIT = 10_000
_AUTHOR_GAP = (0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3)
_CHANNEL_GAP = (0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3)
_WORD = re.compile(r"[a-z0-9][a-z0-9_'.+\-]*[a-z0-9+]|[a-z0-9]")
_OPENING_CUES = (
    "thanks thank thx ty thanx thnx tnx cheers",
    "hi hello hey hiya yo morning greetings anyone anybody someone somebody",
    "yes yeah yep yup no nope nah ok okay k sure right exactly correct true",
    "how what why where when which who is are does do can could should did",
)
_OPENINGS = {word: value for value, cue in enumerate(_OPENING_CUES, 1) for word in cue.split()}
_NICK = re.compile(r"[A-Za-z0-9_\-\[\]\\^{}|`]+")
_ADDRESS = re.compile(r"\s*([^\s:,]{3,})[:,]")
_STOPWORD_TEXT = """
a about after again all also am an and any anyone are as at be been but by can could did do does
doesn't don't for from get got had has have hello hey hi how i i'm if in into is it it's its
just know like me my no not now of ok okay on one or so some that the then there this to try u
use using want was way what when where which who why will with would yes you your
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True, slots=True)
class ChatLine:
    """What a live bot knows about one message when it arrives."""

    message_id: int
    author: str
    """A stable author key: a Discord user id as text, or an IRC nick."""
    at: datetime
    """Aware UTC."""
    text: str
    mentions: frozenset[str] = frozenset()
    """The author keys this message addresses: Discord mentions, or IRC nick-addressing (see
    `IrcNicks`)."""
    is_system: bool = False
    """A join, leave or other line not written by a person."""


@dataclass(frozen=True, slots=True)
class _LineFacts:
    """What is worked out once per line: its content words, POSIX time, and the binned kind
    (1 system, 2 plain, 3 with a question mark), length and opening of its text."""

    words: frozenset[str]
    stamp: float
    kind: int
    length: int
    opening: int


class IrcNicks:
    """The nicks known in an IRC channel so far, and which of them a line addresses.

    IRC has no explicit mentions: people address each other by writing the nick, usually as
    ``nick: text``. A known nick appearing as a word (case-insensitively) counts as a mention,
    and so does a leading ``abbrev:`` that is the unique prefix (3+ characters) of one known
    nick, the way people shorten long nicks."""

    def __init__(self, nicks: Iterable[str] = ()) -> None:
        self._by_lower: dict[str, str] = {}
        for nick in nicks:
            self.add(nick)

    def add(self, nick: str) -> None:
        if nick:
            self._by_lower[nick.lower()] = nick

    def mentions(self, text: str, author: str = "") -> frozenset[str]:
        known = self._by_lower
        found = {known[t] for t in (w.lower() for w in _NICK.findall(text)) if t in known}
        if not found and (head := _ADDRESS.match(text)):
            prefix = head.group(1).lower()
            matches = [nick for lower, nick in known.items() if lower.startswith(prefix)]
            if len(matches) == 1:
                found.add(matches[0])
        found.discard(author)
        return frozenset(found)


def irc_mentions(text: str, nicks: Iterable[str], author: str = "") -> frozenset[str]:
    """The known nicks that an IRC line addresses (see `IrcNicks`), never its own author."""
    return IrcNicks(nicks).mentions(text, author)


def _opening(words: list[str]) -> int:
    """1 thanks, 2 a greeting or a call for help, 3 a short answer, 4 a question word."""
    return _OPENINGS.get(words[0], 0) if words else 0


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _facts(line: ChatLine) -> _LineFacts:
    ignored = {m.lower() for m in line.mentions}
    tokens = [w for w in _WORD.findall(line.text.lower()) if w not in ignored]
    count = len(line.text.split())
    return _LineFacts(
        words=frozenset(_stem(w) for w in tokens if w not in _STOPWORDS),
        stamp=line.at.timestamp(),
        kind=1 if line.is_system else 2 + ("?" in line.text),
        length=0 if count <= 2 else 1 if count <= 6 else 2 if count <= 15 else 3,
        opening=_opening(tokens),
    )


def _distance_bin(distance: int) -> int:
    if distance <= 6:
        return distance
    for value, limit in ((7, 8), (8, 10), (9, 14), (10, 20), (11, 30), (12, 50)):
        if distance <= limit:
            return value
    return 13


def _minutes_bin(minutes: int) -> int:
    if minutes <= 2:
        return 1 + max(minutes, 0)
    for value, limit in ((4, 4), (5, 9), (6, 19), (7, 39)):
        if minutes <= limit:
            return value
    return 8


_DISTANCE = tuple(_distance_bin(d) for d in range(52))
_GAP = tuple(_minutes_bin(m) for m in range(41))


class FeatureExtractor:
    """Turns a message and its history into one feature tuple per candidate.

    Per-line facts are computed once per message and kept in a bounded cache (keyed by id, and
    checked against the line itself, so an edited message is seen afresh), since each line is a
    candidate for the next WINDOW messages."""

    def __init__(self, window: int = WINDOW) -> None:
        self.window = window
        self._facts: dict[int, tuple[ChatLine, _LineFacts]] = {}

    def facts(self, line: ChatLine) -> _LineFacts:
        found = self._facts.get(line.message_id)
        if found is not None and (found[0] is line or found[0] == line):
            return found[1]
        if len(self._facts) >= _CACHE_LIMIT:
            self._facts.clear()
        facts = _facts(line)
        self._facts[line.message_id] = (line, facts)
        return facts

    def keys(
        self, message: ChatLine, earlier: Sequence[ChatLine]
    ) -> tuple[list[ChatLine], list[tuple[int, ...]]]:
        """The candidates (newest first, the message itself last) and their feature tuples."""
        window = list(earlier[-self.window :]) if self.window > 0 else []
        window.reverse()
        facts = self.facts
        author = message.author
        mine = facts(message)
        now = mine.stamp
        mentions = message.mentions
        partners: frozenset[str] | None = None
        talked: set[str] = set()
        author_gap = 0
        for line in window:
            if line.is_system:
                continue
            if line.author == author:
                talked.update(line.mentions)
                if partners is None:
                    partners = line.mentions
                    seconds = now - facts(line).stamp
                    author_gap = 1 + _AUTHOR_GAP[min(max(int(seconds) // 60, 0), 10)]
            elif author in line.mentions:
                talked.add(line.author)
        partners = partners or frozenset()
        channel_gap = 3
        if window:
            channel_gap = _CHANNEL_GAP[min(max(int(now - facts(window[0]).stamp) // 60, 0), 10)]
        message_kind = 0 if message.is_system else mine.kind - 1
        tail = (message_kind, mine.length, mine.opening, author_gap, channel_gap)
        author_rank: dict[str, int] = {}
        addressed_since: dict[str, int] = {}
        back_rank = own_rank = 0
        keys: list[tuple[int, ...]] = []
        words = mine.words
        not_addressing = 2 if not mentions else 3
        cached = self._facts.get
        for distance, line in enumerate(window, start=1):
            found = cached(line.message_id)
            theirs = found[1] if found is not None and found[0] is line else facts(line)
            who = line.author
            rank = author_rank.get(who, 0)
            author_rank[who] = rank + 1
            capped = rank if rank < 2 else 2
            system = line.is_system
            addressed = 4 + capped if who in mentions and not system else not_addressing
            theirs_mention = line.mentions
            if author in theirs_mention:
                back = 2 + (back_rank if back_rank < 2 else 2)
                back_rank += 1
                others = len(theirs_mention) > 1
            else:
                back = 1
                others = bool(theirs_mention)
            if who == author and not system:
                same = 3 + (own_rank if own_rank < 2 else 2)
                own_rank += 1
            else:
                same = 2
            partner = 2 if who in partners else 4 if who in talked else 0
            partner = partner + (rank > 0) if partner else 1
            kind = theirs.kind + 2 if others and not system else theirs.kind
            overlap = len(words & theirs.words) if words else 0
            minutes = int(now - theirs.stamp) // 60
            answered = addressed_since.get(who, 0)
            keys.append(
                (
                    _DISTANCE[distance] if distance < 52 else 13,
                    _GAP[minutes] if 0 <= minutes <= 40 else 1 if minutes < 0 else 8,
                    addressed,
                    back,
                    same,
                    1 + capped,
                    partner,
                    1 + overlap if overlap < 3 else 4,
                    kind,
                    theirs.length + 1,
                    theirs.opening + 1,
                    1 + answered if answered < 2 else 3,
                    *tail,
                )
            )
            for name in theirs_mention:
                if name != who:
                    addressed_since[name] = addressed_since.get(name, 0) + 1
        self_key = (0, 0, 1 if mentions else 0, 0, 1 if author_gap else 0, 0, 0, 0, 0, 0, 0, 0)
        keys.append(self_key + tail)
        window.append(message)
        return window, keys


class AnswerLinker:
    """Scores candidates with a one-hidden-layer network over one-hot features; picks the best.

    A network over one-hot inputs is a sum of one weight row per field: the rows of the pair
    fields are summed ahead of time in a few joint tables, the message's own fields once per
    message, and each distinct feature tuple is scored once (memoised, bounded)."""

    def __init__(self, weights: dict[str, Any]) -> None:
        names = [name for name, _ in FIELDS]
        if weights.get("fields") != names:
            raise ValueError("answer linker weights do not match the feature fields")
        tables: list[list[list[float]]] = weights["embeddings"]
        for (name, size), table in zip(FIELDS, tables, strict=True):
            if len(table) != size:
                raise ValueError(f"answer linker weights: field {name} has {len(table)} values")
        self._tables = tables
        self._bias: list[float] = weights["hidden_bias"]
        self._out: list[float] = weights["output"]
        self._joint = [_joint_table(tables, group) for group in _JOINT]
        sizes = [[FIELDS[field][1] for field in group] for group in _JOINT]
        if sizes != [[14, 9], [7, 5, 6], [6, 4, 4], [5, 6, 5, 6]]:
            raise AssertionError("FIELDS changed: update the joint table indices of _score_new")
        self._extractor = FeatureExtractor(int(weights.get("window", WINDOW)))
        self._memo: dict[tuple[int, ...], float] = {}
        self._tails: dict[tuple[int, ...], list[float]] = {}
        """Bias plus the rows of the message's own fields, per combination (at most 1,200)."""

    @classmethod
    def default(cls) -> AnswerLinker:
        """The linker with the committed weights (loaded once)."""
        return _default_linker()

    def _tail(self, key: tuple[int, ...]) -> list[float]:
        tail = key[PAIR_FIELDS:]
        found = self._tails.get(tail)
        if found is None:
            found = list(self._bias)
            for table, value in zip(self._tables[PAIR_FIELDS:], tail, strict=True):
                found = [h + w for h, w in zip(found, table[value], strict=True)]
            self._tails[tail] = found
        return found

    def _score_new(self, key: tuple[int, ...], tail: list[float]) -> float:
        first, second, third, fourth = self._joint
        # the indices of the joint tables of _JOINT, the last field varying fastest
        a = first[key[0] * 9 + key[1]]
        b = second[(key[2] * 5 + key[3]) * 6 + key[6]]
        c = third[(key[4] * 4 + key[5]) * 4 + key[11]]
        d = fourth[((key[7] * 6 + key[8]) * 5 + key[9]) * 6 + key[10]]
        hidden = [t + x + y + z + v for t, x, y, z, v in zip(tail, a, b, c, d, strict=True)]
        total = sum([w * h for w, h in zip(self._out, hidden, strict=True) if h > 0.0])
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = total
        return total

    def scores(
        self, message: ChatLine, earlier: Sequence[ChatLine]
    ) -> list[tuple[ChatLine, float]]:
        """Every candidate with its score, newest first; the message itself (a new conversation)
        comes last."""
        candidates, keys = self._extractor.keys(message, earlier)
        tail = self._tail(keys[-1])
        memo = self._memo
        return [
            (line, found if (found := memo.get(key)) is not None else self._score_new(key, tail))
            for line, key in zip(candidates, keys, strict=True)
        ]

    def parent(self, message: ChatLine, earlier: Sequence[ChatLine]) -> ChatLine | None:
        """The earlier message this one responds to, or None when it starts a new conversation.
        `earlier` is the channel's recent history, oldest first, only messages before `message`.
        Ties go to the new conversation, then to the nearest candidate."""
        candidates, keys = self._extractor.keys(message, earlier)
        tail = self._tail(keys[-1])
        memo = self._memo
        last = len(keys) - 1
        best = last
        best_score = memo.get(keys[last])
        if best_score is None:
            best_score = self._score_new(keys[last], tail)
        for index in range(last):
            key = keys[index]
            value = memo.get(key)
            if value is None:
                value = self._score_new(key, tail)
            if value > best_score:
                best, best_score = index, value
        return None if best == last else candidates[best]


def _joint_table(tables: list[list[list[float]]], group: tuple[int, ...]) -> list[list[float]]:
    """Row sums for every combination of the group's values, the last field varying fastest."""
    joint: list[list[float]] = [[0.0] * len(tables[0][0])]
    for field in group:
        joint = [
            [a + b for a, b in zip(row, extra, strict=True)]
            for row in joint
            for extra in tables[field]
        ]
    return joint


def load_weights() -> dict[str, Any]:
    text = resources.files(__package__ or "bot.domain").joinpath(WEIGHTS_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _default_linker() -> AnswerLinker:
    return AnswerLinker(load_weights())
