"""Train the answer linker's weights on the corpus's train split and write them to the package.

The model is the feedforward scorer of Kummerfeld et al., "A Large-Scale Corpus for Conversation
Disentanglement" (ACL 2019), on the linker's own features: for each annotated message, a softmax
over the last WINDOW messages and the message itself (a new conversation), trained to put its
mass on the gold parents (several parents share it), by Adam on shuffled batches of messages
with a linearly decaying step size. A few train logs are held out to choose the number of
epochs, then the model is trained afresh on all of train for that many. Identical feature
tuples are scored once per batch, which makes an epoch take seconds. Deterministic for a seed.

    python bench/train_linker.py [--corpus DIR] [--hidden N] [--epochs N] [--seed N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.irc_corpus import DEFAULT_CORPUS, PAPER, AnnotatedLog, read_dir
from bot.domain.answer_linker import FIELDS, WEIGHTS_FILE, WINDOW, FeatureExtractor

OUT = Path(__file__).resolve().parent.parent / "bot" / "domain" / WEIGHTS_FILE
SIZES = np.array([size for _, size in FIELDS], dtype=np.int64)
OFFSETS = np.concatenate([[0], np.cumsum(SIZES)[:-1]])


@dataclass
class Corpus:
    """Every candidate's feature tuple (`keys`, one-hot column per value) and its code; per
    annotated message, the rows of its candidates (`rows[m, k]`, -1 pads), which of them are
    gold, and how many gold links it has (some may lie beyond the window)."""

    keys: np.ndarray
    codes: np.ndarray
    rows: np.ndarray
    gold: np.ndarray
    links: np.ndarray
    log: np.ndarray


@dataclass
class Examples:
    """Some messages' candidates, each distinct feature tuple once: `onehot` has one row per
    tuple, `groups[g, k]` indexes it (one past the last pads), `gold[g, k]` marks gold parents."""

    onehot: np.ndarray
    groups: np.ndarray
    gold: np.ndarray
    links: int

    @property
    def messages(self) -> int:
        return len(self.groups)


def extract(logs: list[AnnotatedLog], window: int) -> Corpus:
    extractor = FeatureExtractor(window)
    keys: list[tuple[int, ...]] = []
    spans: list[tuple[int, int]] = []
    marks: list[list[bool]] = []
    links: list[int] = []
    owner: list[int] = []
    for number, log in enumerate(logs):
        for message, parents in log.gold.items():
            lines, found = extractor.keys(log.lines[message], log.lines[:message])
            spans.append((len(keys), len(keys) + len(found)))
            keys.extend(found)
            marks.append([line.message_id in parents for line in lines])
            links.append(len(parents))
            owner.append(number)
    table = np.array(keys, dtype=np.int64)
    codes = np.zeros(len(table), dtype=np.int64)
    for field, size in enumerate(SIZES):
        codes = codes * size + table[:, field]
    width = max(stop - start for start, stop in spans)
    rows = np.full((len(spans), width), -1, dtype=np.int64)
    gold = np.zeros((len(spans), width), dtype=bool)
    for m, ((start, stop), marked) in enumerate(zip(spans, marks, strict=True)):
        rows[m, : stop - start] = np.arange(start, stop)
        gold[m, : stop - start] = marked
    return Corpus(table + OFFSETS, codes, rows, gold, np.array(links), np.array(owner))


def examples(corpus: Corpus, messages: np.ndarray) -> Examples:
    rows = corpus.rows[messages]
    valid = rows >= 0
    _, first, inverse = np.unique(corpus.codes[rows[valid]], return_index=True, return_inverse=True)
    groups = np.full(rows.shape, len(first), dtype=np.int64)
    groups[valid] = inverse
    distinct = corpus.keys[rows[valid][first]]
    onehot = np.zeros((len(distinct), int(SIZES.sum())), dtype=np.float32)
    np.put_along_axis(onehot, distinct, 1.0, axis=1)
    return Examples(onehot, groups, corpus.gold[messages], int(corpus.links[messages].sum()))


class Scorer:
    """One hidden layer over one-hot features (an embedding sum); hidden=0 means linear."""

    def __init__(self, hidden: int, rng: np.random.Generator) -> None:
        width = max(hidden, 1)
        scale = 1.0 / np.sqrt(len(FIELDS))
        self.params = {
            "embed": rng.normal(0.0, scale, (int(SIZES.sum()), width)),
            "bias": np.zeros(width),
            "out": rng.normal(0.0, 1.0 / np.sqrt(width), width) if hidden else np.ones(1),
        }
        self.params = {k: v.astype(np.float32) for k, v in self.params.items()}
        self.hidden = hidden

    def forward(self, onehot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pre = onehot @ self.params["embed"] + self.params["bias"]
        if not self.hidden:
            return pre[:, 0], pre
        return np.maximum(pre, 0.0) @ self.params["out"], pre

    def backward(
        self, onehot: np.ndarray, pre: np.ndarray, grad: np.ndarray
    ) -> dict[str, np.ndarray]:
        if not self.hidden:  # the output weight stays 1
            grad_pre = grad[:, None]
            return {"embed": onehot.T @ grad_pre, "bias": grad_pre.sum(axis=0)}
        grad_out = (np.maximum(pre, 0.0) * grad[:, None]).sum(axis=0)
        grad_pre = (pre > 0.0) * (grad[:, None] * self.params["out"][None, :])
        return {"embed": onehot.T @ grad_pre, "bias": grad_pre.sum(axis=0), "out": grad_out}


def loss_and_grad(scores: np.ndarray, data: Examples) -> tuple[float, np.ndarray, int]:
    """Mean negative log of the gold parents' share, its gradient on the distinct tuples'
    scores, and how many messages the argmax gets right."""
    s = np.append(scores, -np.inf)[data.groups]  # pads index the appended -inf
    best = s.argmax(axis=1)
    s -= s[np.arange(len(s)), best][:, None]
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)
    gold_p = p * data.gold
    share = gold_p.sum(axis=1)
    learnt = data.gold.any(axis=1)
    weight = np.where(learnt, 1.0 / max(int(learnt.sum()), 1), 0.0).astype(np.float32)
    grad = (p - gold_p / np.where(learnt, share, 1.0)[:, None]) * weight[:, None]
    flat = np.bincount(data.groups.ravel(), weights=grad.ravel(), minlength=len(scores) + 1)
    loss = float(-np.log(np.maximum(share[learnt], 1e-30)).mean())
    right = int(data.gold[np.arange(len(s)), best].sum())
    return loss, flat[: len(scores)].astype(np.float32), right


def f1(right: int | float, data: Examples) -> float:
    precision, recall = right / data.messages, right / data.links
    return 200 * precision * recall / (precision + recall) if right else 0.0


def train(
    corpus: Corpus,
    fit: np.ndarray,
    held: np.ndarray | None,
    args: argparse.Namespace,
    epochs: int,
) -> tuple[Scorer, int, float]:
    """Adam on shuffled batches of messages; with `held`, keeps the epoch best on it."""
    rng = np.random.default_rng(args.seed)
    scorer = Scorer(args.hidden, rng)
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in scorer.params.items()}
    held_examples = examples(corpus, held) if held is not None else None
    best = (-1.0, epochs, scorer.params)
    step = 0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(fit)
        total = right = 0.0
        for start in range(0, len(order), args.batch):
            batch = examples(corpus, order[start : start + args.batch])
            scores, pre = scorer.forward(batch.onehot)
            loss, grad, correct = loss_and_grad(scores, batch)
            total, right = total + loss * batch.messages, right + correct
            step += 1
            rate = args.rate * (1.0 - (epoch - 1) / epochs)
            for name, g in scorer.backward(batch.onehot, pre, grad).items():
                g = g + args.l2 * scorer.params[name]
                m, v = moments[name]
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                size = rate * np.sqrt(1 - 0.999**step) / (1 - 0.9**step)
                scorer.params[name] -= size * m / (np.sqrt(v) + 1e-8)
        report = f"  epoch {epoch}: loss {total / len(fit):.4f}, right {right / len(fit):.3f}"
        if held_examples is not None:
            held_scores = scorer.forward(held_examples.onehot)[0]
            held_f1 = f1(loss_and_grad(held_scores, held_examples)[2], held_examples)
            report += f", held-out link F1 {held_f1:.2f}"
            if held_f1 > best[0]:
                best = (held_f1, epoch, {k: v.copy() for k, v in scorer.params.items()})
        print(report, flush=True)
    if held_examples is not None:
        scorer.params = best[2]
    return scorer, best[1], best[0]


def weights(scorer: Scorer, window: int) -> dict[str, object]:
    embed = scorer.params["embed"]
    bias = scorer.params["bias"]
    if not scorer.hidden:  # a linear model: one unit, shifted so that it is always active
        shift = 1.0 - float(bias[0]) - len(FIELDS) * float(embed.min())
        embed = embed + shift / len(FIELDS)
    tables = [
        [[round(float(x), 5) for x in row] for row in embed[o : o + size]]
        for o, size in zip(OFFSETS, SIZES, strict=True)
    ]
    return {
        "model": f"feedforward, {scorer.hidden} hidden units" if scorer.hidden else "linear",
        "source": PAPER + ", #ubuntu train split",
        "window": window,
        "fields": [name for name, _ in FIELDS],
        "embeddings": tables,
        "hidden_bias": [round(float(x), 5) for x in bias],
        "output": [round(float(x), 5) for x in scorer.params["out"]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--hidden", type=int, default=32, help="hidden units (0: linear)")
    parser.add_argument("--epochs", type=int, default=12, help="most passes over the data")
    parser.add_argument("--batch", type=int, default=500, help="messages per step")
    parser.add_argument("--rate", type=float, default=0.01, help="Adam's first step size")
    parser.add_argument("--l2", type=float, default=1e-5)
    parser.add_argument("--window", type=int, default=WINDOW)
    parser.add_argument("--held-out", type=int, default=15, help="train logs held out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    train_dir = args.corpus / "train"
    if not train_dir.is_dir():
        print(f"corpus not found: {train_dir} (pass --corpus DIR)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    logs = read_dir(train_dir)
    corpus = extract(logs, args.window)
    order = list(range(len(logs)))
    random.Random(args.seed).shuffle(order)
    is_held = np.isin(corpus.log, order[: args.held_out])
    everything = np.arange(len(corpus.rows))
    print(
        f"{len(logs)} train logs, {len(corpus.rows)} annotated messages, "
        f"{corpus.links.sum()} links, {len(np.unique(corpus.codes))} distinct feature tuples "
        f"({time.perf_counter() - started:.0f} s)"
    )
    print(f"choosing the number of epochs on {args.held_out} held-out logs")
    _, epochs, held_f1 = train(corpus, everything[~is_held], everything[is_held], args, args.epochs)
    print(f"best held-out link F1 {held_f1:.2f} after {epochs} epochs; refitting on all of train")
    scorer, _, _ = train(corpus, everything, None, args, epochs)
    args.out.write_text(json.dumps(weights(scorer, args.window)) + "\n", "utf-8")
    print(
        f"wrote {args.out.name} ({args.out.stat().st_size // 1024} KiB) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
