"""Link precision, recall and F1 of the answer linker on the IRC reply-structure corpus, and its
cost per message, against baselines measured in the same run.

Corpus and scoring: Kummerfeld et al., "A Large-Scale Corpus for Conversation Disentanglement"
(ACL 2019). Every annotated message (index 1000 on) gets one predicted link: to the message it
answers, or to itself when it starts a new conversation; every gold link counts, self-links
included. Baselines in the same run: "previous message" (every message answers the one before,
the paper's baseline) and "shared words" (the most recent window message sharing the most
words, else a new conversation), a naive linker doing comparable work per candidate, against
which the linker's time is given as a ratio (the machine is shared, so absolute times drift).
The linker sees each log as a live bot would: messages one by one, the last WINDOW before each.

    python bench/linking.py [--corpus DIR | --data DIR] [--check]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.irc_corpus import DEFAULT_CORPUS, PAPER, AnnotatedLog, LinkScore, read_dir, score_links
from bot.domain.answer_linker import WINDOW, AnswerLinker, ChatLine

TARGET_F1 = 63.5
TARGET_MEDIAN_US = 1000.0
WARM_UP = WINDOW
PAPER_TEST = [
    ("link to the previous message", 35.7, 34.4, 35.0),
    ("linear model", 64.7, 62.3, 63.5),
    ("feedforward model", 73.7, 71.0, 72.3),
    ("10 feedforward models, vote", 74.9, 72.2, 73.5),
]


class SharedWords:
    """The same-run cost baseline: the latest message sharing the most words, else None."""

    def __init__(self) -> None:
        self._words: dict[int, tuple[ChatLine, frozenset[str]]] = {}

    def words(self, line: ChatLine) -> frozenset[str]:
        found = self._words.get(line.message_id)
        if found is None or found[0] is not line:
            found = self._words[line.message_id] = (line, frozenset(line.text.lower().split()))
        return found[1]

    def parent(self, message: ChatLine, earlier: Sequence[ChatLine]) -> ChatLine | None:
        mine = self.words(message)
        best, best_shared = None, 0
        for line in reversed(earlier):
            shared = len(mine & self.words(line))
            if shared > best_shared:
                best, best_shared = line, shared
        return best


Linker = Callable[[ChatLine, Sequence[ChatLine]], ChatLine | None]
Predicted = dict[tuple[str, int], int]
"""(log name, message) -> predicted parent, the message itself for a new conversation"""


def run(
    logs: Sequence[AnnotatedLog], linkers: dict[str, Linker]
) -> dict[str, tuple[Predicted, list[int]]]:
    """Each linker over every log, interleaved message by message so that both see the same
    machine load: predicted parents of annotated messages and their times in nanoseconds."""
    results: dict[str, tuple[Predicted, list[int]]] = {name: ({}, []) for name in linkers}
    clock = time.perf_counter_ns
    for log in logs:
        first = min(log.gold, default=0)
        for index in range(max(first - WARM_UP, 0), len(log.lines)):
            message = log.lines[index]
            earlier = log.lines[max(index - WINDOW, 0) : index]
            for name, link in linkers.items():
                started = clock()
                found = link(message, earlier)
                took = clock() - started
                if index in log.gold:
                    predicted, times = results[name]
                    predicted[log.name, index] = index if found is None else found.message_id
                    times.append(took)
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(int(share * len(ordered)), len(ordered) - 1)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus directory")
    parser.add_argument("--data", type=Path, help="score this directory instead of CORPUS/dev")
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 if F1 < {TARGET_F1} or "
        f"the median time per message >= {TARGET_MEDIAN_US:.0f} µs",
    )
    args = parser.parse_args(argv)
    data = args.data or args.corpus / "dev"
    logs = read_dir(data) if data.is_dir() else []
    if not logs:
        print(
            f"no annotated logs (X.raw.txt with X.annotation.txt) in {data}; the corpus is "
            f"the #ubuntu data of {PAPER} (pass --corpus DIR or --data DIR)",
            file=sys.stderr,
        )
        return 2
    linker, shared = AnswerLinker.default(), SharedWords()
    results = run(logs, {"answer linker": linker.parent, "shared words": shared.parent})

    def scored(predicted: Predicted) -> LinkScore:
        return score_links(logs, lambda log, message: [predicted[log.name, message]])

    rows = [
        ("answer linker", scored(results["answer linker"][0])),
        ("link to the previous message", score_links(logs, lambda _, m: [max(m - 1, 0)])),
        ("shared words", scored(results["shared words"][0])),
    ]
    messages = sum(len(log.gold) for log in logs)
    print(f"Reply links, scored as in {PAPER}")
    print(
        f"{data.name}: {len(logs)} logs, {messages} annotated messages, {rows[0][1].gold} gold "
        f"links; candidates: the last {WINDOW} messages and the message itself"
    )
    print(f"  {'method':<52} {'P':>5} {'R':>5} {'F':>5}")
    for name, score in rows:
        label = f"{name} ({data.name})"
        print(f"  {label:<52} {score.precision:5.1f} {score.recall:5.1f} {score.f1:5.1f}")
    for name, p, r, f in PAPER_TEST:
        print(f"  {'paper, Table 3: ' + name + ' (test)':<52} {p:5.1f} {r:5.1f} {f:5.1f}")
    times = {name: [t / 1000 for t in found[1]] for name, found in results.items()}
    median = statistics.median(times["answer linker"])
    p99 = percentile(times["answer linker"], 0.99)
    print("Time per message, µs (same run, interleaved):")
    for name, values in times.items():
        print(
            f"  {name:<16} median {statistics.median(values):7.1f}   "
            f"p99 {percentile(values, 0.99):7.1f}"
        )
    base, base_p99 = (
        statistics.median(times["shared words"]),
        percentile(times["shared words"], 0.99),
    )
    print(f"  answer linker / shared words: median x{median / base:.1f}, p99 x{p99 / base_p99:.1f}")
    f1 = rows[0][1].f1
    if args.check:
        failures = []
        if f1 < TARGET_F1:
            failures.append(f"F1 {f1:.1f} < {TARGET_F1}")
        if median >= TARGET_MEDIAN_US:
            failures.append(f"median {median:.0f} µs >= {TARGET_MEDIAN_US:.0f} µs")
        print("check: " + ("; ".join(failures) if failures else "passed"))
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
