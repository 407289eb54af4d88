"""``engagebot demo``: the headless run's transcript against the simulated community's plan, and
the preview page in a real browser (headless Chromium, driven over the DevTools protocol)."""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.demo import community, phrases
from bot.demo.plan import Community, Membership, Question
from bot.domain.questions import QuestionContext, QuestionSource, classify_question
from tests.demo_browser import DEMO, ROOT, SEED, Browser, Interactive, chromium

WEEK = timedelta(days=7)
CARD_TITLES = ("Unanswered question", "Answered question", "Resolved question")
SCREENSHOTS = {
    name: ROOT / "docs" / "screenshots" / f"{name}.png"
    for name in ("demo-preview", "summary-staff", "summary-public")
}


@dataclass
class Headless:
    transcript: dict[str, Any]
    out: Path
    seconds: float
    printed: str


def shared_dir(factory: pytest.TempPathFactory) -> Path:
    """This session's temporary folder, the same for every pytest-xdist worker."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def headless(tmp_path_factory: pytest.TempPathFactory) -> Headless:
    """One headless run for the whole session, however many workers share the tests."""
    shared = shared_dir(tmp_path_factory)
    out = shared / "demo-headless"
    with (shared / "demo-headless.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "result.json").exists():
            started = time.monotonic()
            done = subprocess.run(
                [*DEMO, "--headless", "--out", str(out)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            result = {"seconds": time.monotonic() - started, "printed": done.stdout}
            (out / "result.json").write_text(json.dumps(result), encoding="utf-8")
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    transcript = json.loads((out / "transcript.json").read_text(encoding="utf-8"))
    return Headless(transcript, out, result["seconds"], result["printed"])


@pytest.fixture(scope="module")
def plan() -> Community:
    return community.build(SEED)


def posts(transcript: dict[str, Any], channel: str) -> list[dict[str, Any]]:
    return [m for m in transcript["messages"] if m["channel"] == channel and not m["ephemeral"]]


def summaries(transcript: dict[str, Any], channel: str, title: str) -> list[dict[str, Any]]:
    return [
        m
        for m in posts(transcript, channel)
        if m["embeds"] and m["embeds"][0]["title"].startswith(title)
    ]


def field(embed: dict[str, Any], name: str) -> str:
    return next(f["value"] for f in embed["fields"] if f["name"].startswith(name))


def by_moderator(card: dict[str, Any]) -> bool:
    if card["title"] != "Resolved question":
        return False
    return not field(card, "Status").endswith("(reaction).")


def carded(plan: Community, question: Question) -> bool:
    """Whether an inbox sweep (run at the plan's ticks) found the question still unanswered."""
    due = question.at + plan.target
    answered = question.first_response_at
    return any(due <= t and (answered is None or t <= answered) for t in plan.ticks())


def week_figures(plan: Community, start: datetime) -> dict[str, int]:
    end = start + WEEK
    said = [m for m in plan.messages() if start <= m.at < end]
    moves = [e for e in plan.timeline if isinstance(e, Membership) and start <= e.at < end]
    return {
        "messages": len(said),
        "active": len({m.author for m in said}),
        "questions": sum(start <= q.at < end for q in plan.questions),
        "joins": sum(e.joined for e in moves),
        "leaves": sum(not e.joined for e in moves),
    }


# -- the transcript ------------------------------------------------------------------------------


def test_the_headless_run_is_quick_and_writes_transcript_and_charts(
    headless: Headless, plan: Community
) -> None:
    transcript, out = headless.transcript, headless.out
    # Under a minute on a 2-core machine alone; the bound leaves room for a loaded CI machine.
    assert headless.seconds < 120, f"the headless demo took {headless.seconds:.0f} s"
    assert "Moderators' week in Lanternfall Community" in headless.printed
    assert transcript["seed"] == SEED and transcript["guild"] == plan.guild_name
    weeks = len(summaries(transcript, "announcements", "This week in"))
    charts = sorted(p.name for p in (out / "charts").glob("*.png"))
    assert weeks == 8 and len(charts) == 3 * weeks  # activity (public, staff) and retention
    assert "2026-03-02-mod-inbox-retention.png" in charts
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in (out / "charts").glob("*.png"))


def test_every_question_still_waiting_at_a_sweep_has_its_card(
    headless: Headless, plan: Community
) -> None:
    transcript = headless.transcript
    cards = [
        m["embeds"][0]
        for m in posts(transcript, "mod-inbox")
        if m["embeds"] and m["embeds"][0]["title"].startswith(CARD_TITLES)
    ]
    never = [q for q in plan.questions if q.first_response_at is None and carded(plan, q)]
    late = [q for q in plan.questions if q.first_response_at is not None and carded(plan, q)]
    # A card resolved by its asker's ✅ was answered first; one resolved by a moderator was not.
    unanswered = [c for c in cards if c["title"].startswith("Unanswered") or by_moderator(c)]
    answered = [c for c in cards if c not in unanswered]
    assert len(unanswered) == len(never) > 10
    assert len(answered) == len(late) > 10
    assert {c["title"] for c in answered} <= {"Answered question", "Resolved question"}
    live = [q for q in never if q.at >= plan.live_from]
    assert len(live) == 4, "the live stretch leaves four questions unanswered"


def test_the_moderator_claims_and_resolves_a_card(
    headless: Headless,
) -> None:
    transcript = headless.transcript
    actions = [i["action"] for i in transcript["interactions"]]
    assert "/engage inbox-channel channel:#mod-inbox" in actions
    assert "/summary channel kind:public channel:#announcements" in actions
    assert any(a.startswith("/engage backfill") for a in actions)
    assert any(a.startswith("[Claim]") for a in actions)
    assert any(a.startswith("[Resolved]") for a in actions)
    resolved = [
        m for m in posts(transcript, "mod-inbox") if m["embeds"] and by_moderator(m["embeds"][0])
    ]
    assert len(resolved) == 1 and resolved[0]["components"]  # only "Jump to question" is left


def test_every_weekly_summary_matches_the_history(headless: Headless, plan: Community) -> None:
    transcript = headless.transcript
    public = summaries(transcript, "announcements", "This week in")
    staff = summaries(transcript, "mod-inbox", "Moderators' week in")
    assert len(public) == len(staff) == 8
    for public_post, staff_post in zip(public, staff, strict=True):
        posted = datetime.fromisoformat(public_post["posted_at"])
        assert (posted.weekday(), posted.hour) == (0, 9)  # Monday 09:00, the default schedule
        start = posted.replace(hour=0, minute=0, second=0, microsecond=0) - WEEK
        week = week_figures(plan, start)
        text = public_post["embeds"][0]["description"]
        assert f"**{week['messages']:,}** messages" in text, (start, week, text)
        assert f"**{week['active']:,}** members" in text, (start, week, text)
        embed = staff_post["embeds"][0]
        assert f"Asked: {week['questions']:,}" in field(embed, "Questions"), (start, week)
        members = field(embed, "Members")
        assert f"Joined: {week['joins']:,}" in members and f"Left: {week['leaves']:,}" in members
        assert public_post["attachments"] == ["activity.png"]
        assert staff_post["attachments"] == ["retention.png", "activity.png"]


def test_the_giveaway_week_shows_the_spike_and_the_churn(
    headless: Headless, plan: Community
) -> None:
    transcript = headless.transcript
    last = summaries(transcript, "mod-inbox", "Moderators' week in")[-1]["embeds"][0]
    week_start = plan.giveaway.announced_at.replace(hour=0) - timedelta(days=2)
    giveaway, before = week_figures(plan, week_start), week_figures(plan, week_start - WEEK)
    assert giveaway["joins"] > 4 * before["joins"] and giveaway["leaves"] > 20
    assert f"Joined: {giveaway['joins']:,}" in field(last, "Members")
    at_nine = plan.live_from + timedelta(hours=3)
    waiting = [
        q
        for q in plan.questions
        if q.at + plan.target <= at_nine
        and carded(plan, q)
        and (q.first_response_at is None or q.first_response_at > at_nine)
    ]
    resolved_by_moderator = 1
    backlog = len(waiting) - resolved_by_moderator
    assert any(f["name"] == f"Unanswered backlog ({backlog})" for f in last["fields"])


# -- the plan's words ----------------------------------------------------------------------------


def filled(templates: tuple[str, ...]) -> Iterator[str]:
    for template, thing, resource, platform in itertools.product(
        templates, phrases.THINGS, phrases.RESOURCES, phrases.PLATFORMS
    ):
        yield template.format(thing=thing, resource=resource, platform=platform)


@pytest.mark.parametrize("text", sorted(set(filled(phrases.GENERAL_QUESTIONS))))
def test_questions_in_general_chat_are_detected(text: str) -> None:
    assert classify_question(text) is QuestionSource.DETECTED


NOT_QUESTIONS = (
    phrases.CHAT
    + phrases.CHAT_REPLIES
    + phrases.THREAD_CHAT
    + phrases.ANSWERS
    + phrases.SECOND_ANSWERS
    + phrases.CLARIFICATIONS
    + phrases.THANKS
    + phrases.BUMPS
    + phrases.HELLOS
)


@pytest.mark.parametrize("text", sorted(set(filled(NOT_QUESTIONS))))
def test_everything_else_members_say_is_no_question(text: str) -> None:
    # Replies ping the author replied to, who may be staff: no request may hide in them either.
    assert classify_question(text) is None
    assert classify_question(text, QuestionContext(mentions_staff_or_bot=True)) is None


def test_the_plan_is_reproducible() -> None:
    assert community.build(3) == community.build(3)
    assert community.build(3) != community.build(4)


# -- the preview page in a browser ---------------------------------------------------------------


def test_the_interactive_demo_serves_its_page_and_stops_on_ctrl_c(
    headless: Headless, tmp_path: Path
) -> None:
    demo = Interactive(tmp_path / "out")
    try:
        assert demo.url is not None, "".join(demo.printed)[-3000:]
        with urllib.request.urlopen(demo.url.partition("#")[0], timeout=30) as page:  # noqa: S310
            assert page.status == 200 and b"SimCord Preview" in page.read()
        # The same seed, the same run: this one wrote the same transcript as the headless one.
        again = (demo.out / "transcript.json").read_text(encoding="utf-8")
        assert again == (headless.out / "transcript.json").read_text(encoding="utf-8")
    finally:
        status, printed = demo.stop()
    assert status == 0, printed[-4000:]
    assert "Stopped." in printed


def test_the_preview_page_shows_both_summaries_and_the_inbox_cards(tmp_path: Path) -> None:
    """The moderators' channel first (their summary and the inbox cards), then, typed in the
    terminal, #announcements with the members' summary; each as a screenshot."""
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (CI installs Debian's chromium package)")
    demo = Interactive(tmp_path / "out", terminal=True)
    shots = {name: tmp_path / f"{name}.png" for name in (*SCREENSHOTS, "demo-announcements")}

    async def look() -> tuple[list[str], list[str]]:
        assert demo.url is not None, "".join(demo.printed)[-3000:]
        async with Browser(executable, tmp_path / "profile") as browser:
            inbox = await browser.capture(
                demo.url, "Moderators' week in", shots["demo-preview"], shots["summary-staff"]
            )
            demo.type("announcements")
            url = await asyncio.to_thread(demo.next_url)
            assert url is not None, "".join(demo.printed)[-3000:]
            public = await browser.capture(
                url, "This week in", shots["demo-announcements"], shots["summary-public"]
            )
        return inbox, public

    try:
        inbox, public = asyncio.run(look())
    finally:
        status, printed = demo.stop()
    assert status == 0, printed[-4000:]
    assert "Preview of #announcements" in printed
    assert any(t.startswith("Moderators' week in") for t in inbox), inbox
    assert any(t.startswith(CARD_TITLES) for t in inbox), inbox
    assert any(t.startswith("This week in") for t in public), public
    assert not any(t.startswith(("Moderators' week", *CARD_TITLES)) for t in public), public
    assert all(shot.read_bytes().startswith(b"\x89PNG") for shot in shots.values())
    if os.environ.get("ENGAGEBOT_SCREENSHOTS"):  # refreshes the screenshots in docs/
        for name, path in SCREENSHOTS.items():
            shutil.copyfile(shots[name], path)
