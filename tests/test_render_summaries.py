"""How the weekly summaries name members and channels, and fit lists into an embed field."""

from __future__ import annotations

from bot.render.names import Names
from bot.render.summaries import whole_lines

NAMES = Names(
    "Lanternfall",
    10,
    {1: "Misty_Otter", 2: "Mara"}.get,
    {20: "general", 21: "Desync [help] please"}.get,
)


def test_members_by_name_in_bold_and_those_gone_by_mention() -> None:
    assert NAMES.member(2) == "**Mara**"
    assert NAMES.member(1) == "**Misty\\_Otter**"  # a name never turns into Markdown
    assert NAMES.member(3) == "<@3>"
    assert NAMES.members([2, 1, 3], 2) == "**Mara**, **Misty\\_Otter**"
    assert NAMES.members([], 5) == "—"


def test_channels_as_links_with_their_name() -> None:
    assert NAMES.channel(20) == "[#general](https://discord.com/channels/10/20)"
    assert NAMES.channel(21) == "[#Desync (help) please](https://discord.com/channels/10/21)"
    assert NAMES.channel(22) == "<#22>"


def test_a_field_keeps_whole_lines_and_says_how_many_were_left_out() -> None:
    lines = [f"[{i} h old](https://discord.com/channels/1/2/{i:04d})" for i in range(60)]
    shown = whole_lines(lines[:30], 60, "…and {} more")
    assert len(shown) <= 1024
    kept = shown.split("\n")[:-1]
    assert kept == lines[: len(kept)] and 15 < len(kept) < 30
    assert shown.split("\n")[-1] == f"…and {60 - len(kept)} more"
    assert whole_lines(lines[:3], 3, "…and {} more") == "\n".join(lines[:3])
    assert whole_lines(lines[:3], 5, "…and {} more").endswith("\n…and 2 more")
