"""The IRC reply-structure corpus of Kummerfeld et al., "A Large-Scale Corpus for Conversation
Disentanglement" (ACL 2019), read into the answer linker's `ChatLine`s, and its link scoring.

A directory holds pairs ``X.raw.txt`` (one message per line, ``[HH:MM] <nick> text``; system lines
``=== ...`` count as lines) and ``X.annotation.txt`` (``A B -``: the larger of A and B replies to
the smaller; ``N N -``: N starts a new conversation). Messages are numbered by line from 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.answer_linker import ChatLine, IrcNicks

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "irc-disentanglement"
PAPER = 'Kummerfeld et al., "A Large-Scale Corpus for Conversation Disentanglement", ACL 2019'

_STAMP = re.compile(r"\[(\d\d):(\d\d)\] (.*)")
_SAID = re.compile(r"<([^>]*)> ?(.*)")
_ACTION = re.compile(r" \* (\S+) ?(.*)")
_NOTICE = re.compile(r"-([^:\s]+):[^-\s]*- ?(.*)")
_SYSTEM_NICK = re.compile(r"=== (\S+) .*(has joined|has left|has quit|is now known as (\S+))")


@dataclass(frozen=True)
class AnnotatedLog:
    """One log: every line in order, and the gold parents of each annotated message (the
    message itself when it starts a new conversation)."""

    name: str
    lines: list[ChatLine]
    gold: dict[int, frozenset[int]]


@dataclass(frozen=True)
class LinkScore:
    matched: int
    predicted: int
    gold: int

    @property
    def precision(self) -> float:
        return 100.0 * self.matched / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return 100.0 * self.matched / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _day(name: str) -> datetime:
    try:
        return datetime.strptime(name[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return datetime(2000, 1, 1, tzinfo=UTC)


def parse_lines(name: str, raw: Iterable[str]) -> list[ChatLine]:
    """ChatLines with IRC nick-addressing turned into mentions, using only the nicks known
    before each line (speakers, joiners and nick changes so far)."""
    day = _day(name)
    at = day
    nicks = IrcNicks()
    lines: list[ChatLine] = []
    for index, text in enumerate(raw):
        stamp = _STAMP.match(text)
        if stamp is None:
            system = _SYSTEM_NICK.match(text)
            author = system.group(1) if system else ""
            lines.append(ChatLine(index, author, at, text, is_system=True))
            if system:
                nicks.add(system.group(1))
                nicks.add(system.group(3) or "")
            continue
        minute = day + timedelta(hours=int(stamp.group(1)), minutes=int(stamp.group(2)))
        while minute < at - timedelta(hours=1):  # the log went past midnight
            day += timedelta(days=1)
            minute += timedelta(days=1)
        at = max(at, minute)
        rest = stamp.group(3)
        said = _SAID.match(rest) or _ACTION.match(rest) or _NOTICE.match(rest)
        if said is None:
            lines.append(ChatLine(index, "", at, rest, is_system=True))
            continue
        author, body = said.group(1), said.group(2)
        lines.append(ChatLine(index, author, at, body, nicks.mentions(body, author)))
        nicks.add(author)
    return lines


def read_gold(lines: Iterable[str]) -> dict[int, frozenset[int]]:
    parents: dict[int, set[int]] = {}
    for line in lines:
        parts = line.split()
        if len(parts) < 2:
            continue
        a, b = int(parts[0]), int(parts[1])
        parents.setdefault(max(a, b), set()).add(min(a, b))
    return {message: frozenset(found) for message, found in sorted(parents.items())}


def read_log(raw: Path) -> AnnotatedLog:
    name = raw.name.removesuffix(".raw.txt")
    annotation = raw.with_name(name + ".annotation.txt")
    text = raw.read_text(encoding="utf-8", errors="replace").split("\n")
    if text and text[-1] == "":
        text.pop()
    gold = read_gold(annotation.read_text(encoding="utf-8").splitlines())
    return AnnotatedLog(name, parse_lines(name, text), gold)


def read_dir(directory: Path) -> list[AnnotatedLog]:
    """Every annotated log of a directory, in name order."""
    raws = sorted(directory.glob("*.raw.txt"))
    return [
        read_log(raw) for raw in raws if raw.with_name(raw.name[:-8] + ".annotation.txt").is_file()
    ]


def score_links(
    logs: Sequence[AnnotatedLog], predict: Callable[[AnnotatedLog, int], Iterable[int]]
) -> LinkScore:
    """Link precision, recall and F1 as the paper scores them: over the annotated messages,
    every gold link counted, a new conversation being a link of a message to itself."""
    matched = predicted = gold = 0
    for log in logs:
        for message, parents in log.gold.items():
            found = set(predict(log, message))
            matched += len(found & parents)
            predicted += len(found)
            gold += len(parents)
    return LinkScore(matched, predicted, gold)
