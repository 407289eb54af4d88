"""The garbage collector in engagebot's long-running processes (the bot, the writer process).

Both hold large, long-lived caches (discord.py's members; the writer's window of recent
questions and messages) and allocate many short-lived objects per message: Python's default
young-generation threshold (700 allocations) collects every few dozen messages, and full
collections walk everything alive.
"""

from __future__ import annotations

import gc

YOUNG_GC_THRESHOLD = 10_000
"""Allocations between two young garbage collections (Python's default is 700)."""


def settle_heap() -> None:
    """Once the caches are loaded (for the bot, at every new gateway session): collect, then
    freeze what is alive, so that later collections never walk it and the libraries again (a
    full collection takes about 0.1 s per 10,000 cached members, and bursts of messages trigger
    them); and collect young objects less often. Nothing is kept longer: objects are freed when
    their last reference goes, and frozen ones are unfrozen and collected at the next call."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_GC_THRESHOLD), *older)
