"""Precision, recall and speed of the question detector on labelled messages.

Each message is classified as the detector sees it in an ordinary watched channel from a
member who is not staff: ``classify_question(text) is not None``. The scores are printed
overall and per language. Speed is messages/s over the whole set, best of a few passes, and
its ratio against two baselines measured in the same run over the same messages: a bare
``"?" in text``, the cheapest check a detector could make, and a question mark in the
author's own words (``visible_text``: outside code, quotes and URLs), the rule the detector
grew from.

    python bench/questions.py [--data FILE.jsonl] [--repeat K] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.domain.questions import classify_question, visible_text  # noqa: E402

DATA = ROOT / "tests" / "data" / "questions" / "questions.jsonl"
TARGET_PRECISION = 0.9
PASSES = 20


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    lang: str
    is_question: bool


@dataclass(slots=True)
class Score:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0

    def add(self, expected: bool, got: bool) -> None:
        if got and expected:
            self.true_positive += 1
        elif got:
            self.false_positive += 1
        elif expected:
            self.false_negative += 1
        else:
            self.true_negative += 1

    @property
    def total(self) -> int:
        return self.true_positive + self.false_positive + self.false_negative + self.true_negative

    @property
    def questions(self) -> int:
        return self.true_positive + self.false_negative

    @property
    def precision(self) -> float:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive / self.questions if self.questions else 1.0

    @property
    def f1(self) -> float:
        both = self.precision + self.recall
        return 2 * self.precision * self.recall / both if both else 0.0


def load(path: Path) -> list[Labelled]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row.get("text"), str) or not isinstance(row.get("is_question"), bool):
                raise ValueError(f"{path.name}:{number}: needs a text and a boolean is_question")
            rows.append(Labelled(row["text"], str(row.get("lang", "?")), row["is_question"]))
    return rows


def detected(text: str) -> bool:
    return classify_question(text) is not None


def question_mark(text: str) -> bool:
    return "?" in text


def visible_question_mark(text: str) -> bool:
    words = visible_text(text)
    return "?" in words or "¿" in words


def rates(checks: Sequence[Callable[[str], bool]], texts: list[str], passes: int) -> list[float]:
    """Messages/s of each check, best of ``passes`` passes over all the texts. The checks take
    turns pass by pass, so that a busy machine slows them alike and their ratios hold."""
    best = [float("inf")] * len(checks)
    for _ in range(passes):
        for i, check in enumerate(checks):
            started = time.perf_counter()
            for text in texts:
                check(text)
            best[i] = min(best[i], time.perf_counter() - started)
    return [len(texts) / seconds for seconds in best]


def score(rows: list[Labelled]) -> tuple[Score, dict[str, Score]]:
    overall, per_language = Score(), dict[str, Score]()
    for row in rows:
        got = detected(row.text)
        overall.add(row.is_question, got)
        per_language.setdefault(row.lang, Score()).add(row.is_question, got)
    return overall, per_language


def line(name: str, s: Score) -> str:
    counts = f"{s.total:>6}{s.questions:>6}{s.true_positive:>5}{s.false_positive:>5}"
    rates = f"{s.precision:>8.3f}{s.recall:>8.3f}{s.f1:>8.3f}"
    return f"{name:<8}{counts}{s.false_negative:>5}{rates}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="question detector precision, recall, speed")
    parser.add_argument("--data", type=Path, default=DATA, help="JSONL of text, lang, is_question")
    parser.add_argument("--repeat", type=int, default=PASSES, help="timed passes, best one kept")
    parser.add_argument("--check", action="store_true", help="exit 1 when precision < target")
    args = parser.parse_args(argv)

    rows = load(args.data)
    if not rows:
        parser.error(f"{args.data} holds no messages")
    overall, per_language = score(rows)
    print(f"{args.data.name}: {len(rows)} messages, {overall.questions} labelled questions")
    print(
        f"{'lang':<8}{'msgs':>6}{'qs':>6}{'TP':>5}{'FP':>5}{'FN':>5}{'prec':>8}{'recall':>8}{'F1':>8}"
    )
    for lang in sorted(per_language, key=lambda k: (-per_language[k].total, k)):
        print(line(lang, per_language[lang]))
    print(line("all", overall))

    texts = [row.text for row in rows]
    passes = max(args.repeat, 1)
    detector, visible, bare = rates((detected, visible_question_mark, question_mark), texts, passes)
    print(f"speed, best of {passes} passes: detector {detector:,.0f} msgs/s")
    print(f'  {detector / visible:.2f}x "?" in visible_text(text) ({visible:,.0f} msgs/s)')
    print(f'  {detector / bare:.4f}x bare "?" in text ({bare:,.0f} msgs/s)')
    ok = overall.precision >= TARGET_PRECISION
    verdict = "PASS" if ok else "FAIL"
    print(f"precision {overall.precision:.3f}, target >= {TARGET_PRECISION:g}: {verdict}")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
