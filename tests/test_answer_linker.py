"""The answer linker: its features and decisions on small conversations, tables, no event loop;
and its link F1 on the corpus's dev split when the corpus is there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from bench.irc_corpus import (
    DEFAULT_CORPUS,
    AnnotatedLog,
    parse_lines,
    read_dir,
    read_gold,
    score_links,
)
from bot.domain.answer_linker import (
    FIELDS,
    WEIGHTS_FILE,
    AnswerLinker,
    ChatLine,
    FeatureExtractor,
    IrcNicks,
    irc_mentions,
    load_weights,
)

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
NAMES = [name for name, _ in FIELDS]
Said = tuple[float, str, str]
"""(minutes after START, author, text)"""


def conversation(said: list[Said]) -> list[ChatLine]:
    """ChatLines with IRC-style addressing turned into mentions, as the corpus reader does."""
    nicks = IrcNicks()
    lines = []
    for index, (minutes, author, text) in enumerate(said):
        at = START + timedelta(minutes=minutes)
        if author == "===":
            lines.append(ChatLine(index, "", at, text, is_system=True))
            continue
        lines.append(ChatLine(index, author, at, text, nicks.mentions(text, author)))
        nicks.add(author)
    return lines


def features(lines: list[ChatLine]) -> dict[int | None, dict[str, int]]:
    """The last line's features per candidate: by message id, None for the self-link."""
    candidates, keys = FeatureExtractor().keys(lines[-1], lines[:-1])
    named: dict[int | None, dict[str, int]] = {
        line.message_id: dict(zip(NAMES, key, strict=True))
        for line, key in zip(candidates, keys, strict=True)
    }
    named[None] = named.pop(lines[-1].message_id)
    return named


def parent_index(lines: list[ChatLine], linker: AnswerLinker | None = None) -> int | None:
    found = (linker or AnswerLinker.default()).parent(lines[-1], lines[:-1])
    return None if found is None else found.message_id


HELP = [
    (0, "alice", "how do i mount my ipod on ubuntu?"),
    (0, "carol", "anyone know why grub shows a black screen after the upgrade"),
    (1, "bob", "alice: is it listed in dmesg when you plug it in"),
    (1, "dave", "carol: which grub version?"),
    (2, "carol", "dave: grub 2.06 from the updates"),
    (2, "bob", "alice: also try gnome-disks"),
]


@pytest.mark.parametrize(
    ("text", "nicks", "author", "expected"),
    [
        ("rww: elaborate on sucks?", ["rww", "KazaLite"], "x", {"rww"}),
        ("KAZALITE, is it brown or blue?", ["rww", "KazaLite"], "x", {"KazaLite"}),
        ("ask rww or kazalite about it", ["rww", "KazaLite"], "x", {"rww", "KazaLite"}),
        ("Action: try telnet", ["ActionParsnip", "exon"], "x", {"ActionParsnip"}),
        ("act: ambiguous", ["actor", "action"], "x", set()),
        ("rwwx is not rww's friend", ["rww"], "x", {"rww"}),
        ("rwwx: nobody", ["rww"], "x", set()),
        ("me: talking to myself", ["me", "you"], "me", set()),
        ("no nicks here", [], "x", set()),
    ],
)
def test_irc_nick_addressing_is_a_mention(
    text: str, nicks: list[str], author: str, expected: set[str]
) -> None:
    assert irc_mentions(text, nicks, author) == expected


@pytest.mark.parametrize(
    ("said", "candidate", "expected"),
    [
        # bob's latest message, addressed by name, one message back, same minute
        (
            [*HELP, (2, "alice", "bob: it shows up as sdb")],
            5,
            {"distance": 1, "gap": 1, "addressed": 4, "addressed_back": 2, "same_author": 2},
        ),
        # bob's earlier message: second latest by bob, and the second mentioning alice
        (
            [*HELP, (2, "alice", "bob: it shows up as sdb")],
            2,
            {
                "distance": 4,
                "gap": 2,
                "addressed": 5,
                "addressed_back": 3,
                "candidate_author_rank": 2,
            },
        ),
        # someone else's message while alice addresses bob
        (
            [*HELP, (2, "alice", "bob: it shows up as sdb")],
            4,
            {"addressed": 3, "addressed_back": 1},
        ),
        # alice's own question, her previous message; it shares "ipod" and "mount"
        ([*HELP, (2, "alice", "the ipod does not mount")], 0, {"same_author": 3, "overlap": 3}),
        # carol's question has been answered once since (dave addressed her)
        ([*HELP, (3, "erin", "grub again")], 1, {"candidate_answered": 2, "candidate_kind": 2}),
        # a question mark, and a mention of someone other than the message's author
        ([*HELP, (3, "erin", "hello")], 3, {"candidate_kind": 5, "candidate_opening": 5}),
        # carol's last words addressed dave: he is her partner
        ([*HELP, (3, "carol", "still black")], 3, {"partner": 2, "addressed": 2}),
        # time gaps are binned by minutes
        ([*HELP, (30, "erin", "hi all")], 5, {"gap": 7, "distance": 1}),
    ],
)
def test_pair_features(said: list[Said], candidate: int, expected: dict[str, int]) -> None:
    found = features(conversation(said))[candidate]
    assert {name: found[name] for name in expected} == expected


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (
            [*HELP, (3, "alice", "thanks bob, that worked")],
            {
                "message_opening": 1,
                "author_gap": 3,
                "channel_gap": 1,
                "addressed": 1,
                "distance": 0,
            },
        ),
        (
            [*HELP, (3, "erin", "hello, can anyone help with wifi?")],
            {"message_opening": 2, "message_kind": 2, "author_gap": 0, "addressed": 0},
        ),
        ([*HELP, (3, "===", "=== erin has joined #ubuntu")], {"message_kind": 0}),
    ],
)
def test_self_link_features(said: list[Said], expected: dict[str, int]) -> None:
    found = features(conversation(said))[None]
    assert {name: found[name] for name in expected} == expected


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        # a direct address by name links to that person's last message
        ([*HELP, (3, "alice", "bob: gnome-disks shows it, thanks")], 5),
        ([*HELP, (3, "dave", "carol: try reinstalling it then")], 4),
        # an answer to a question asked just before
        (
            [
                (0, "alice", "is there a way to list all iptables chains?"),
                (1, "bob", "iptables -L"),
            ],
            0,
        ),
        # the asker carries on with whoever answered her last
        ([*HELP, (3, "alice", "it does not show up in gnome-disks")], 5),
        # far from anything: a newcomer, an hour later, addressing nobody
        ([*HELP, (65, "erin", "hi, how do i install java?")], None),
        ([*HELP, (3, "erin", "hello, can anyone help me with my wifi card?")], None),
        # a system line starts nothing and answers nothing
        ([*HELP, (3, "===", "=== erin has joined #ubuntu")], None),
        # nothing earlier: a new conversation
        ([(0, "alice", "hello")], None),
    ],
)
def test_decisions(said: list[Said], expected: int | None) -> None:
    assert parent_index(conversation(said)) == expected


def test_discord_mentions_mean_what_irc_addressing_means() -> None:
    """Authors keyed by user id, explicit mentions, the name nowhere in the text."""
    lines = [
        ChatLine(101, "7001", START, "how do I pin a message?"),
        ChatLine(102, "7002", START + timedelta(seconds=20), "has anyone seen the new release"),
        ChatLine(103, "7003", START + timedelta(seconds=40), "right click it, then Pin"),
        ChatLine(104, "7002", START + timedelta(seconds=50), "it's out since monday"),
        ChatLine(
            105, "7001", START + timedelta(seconds=70), "<@7003> found it", frozenset({"7003"})
        ),
    ]
    assert parent_index(lines) == 103


def test_never_looks_at_later_messages() -> None:
    """A parent depends on the message and the ones before it only: a linker that has already
    seen the whole conversation, or sees it backwards, links every message the same way."""
    lines = conversation(
        [
            *HELP,
            (3, "alice", "bob: it shows up as sdb"),
            (3, "carol", "dave: reinstalled, same thing"),
            (4, "erin", "hello, anyone using wayland?"),
            (5, "bob", "alice: then mount /dev/sdb1"),
            (5, "alice", "thanks"),
        ]
    )
    fresh = [parent_index(lines[: i + 1], AnswerLinker(load_weights())) for i in range(len(lines))]
    seen_all = AnswerLinker(load_weights())
    for i in range(len(lines)):
        parent_index(lines[: i + 1], seen_all)
    assert [parent_index(lines[: i + 1], seen_all) for i in range(len(lines))] == fresh
    backwards = AnswerLinker(load_weights())
    assert [parent_index(lines[: i + 1], backwards) for i in reversed(range(len(lines)))] == fresh[
        ::-1
    ]
    assert all(p is None or p < i for i, p in enumerate(fresh))


def test_an_edited_message_is_seen_afresh() -> None:
    linker = AnswerLinker(load_weights())
    lines = conversation([*HELP, (3, "erin", "hello all")])
    edited = ChatLine(6, "erin", lines[-1].at, "thanks bob", frozenset({"bob"}))
    assert linker.parent(lines[-1], lines[:-1]) is None
    assert linker.parent(edited, lines[:-1]) == lines[5]


def test_scoring_is_deterministic() -> None:
    lines = conversation([*HELP, (3, "alice", "bob: thanks, it mounts now")])
    first = AnswerLinker(load_weights()).scores(lines[-1], lines[:-1])
    second = AnswerLinker(load_weights()).scores(lines[-1], lines[:-1])
    again = AnswerLinker.default().scores(lines[-1], lines[:-1])
    assert first == second == again
    assert [line.message_id for line, _ in first] == [5, 4, 3, 2, 1, 0, 6]


def test_the_committed_weights_load() -> None:
    assert resources.files("bot.domain").joinpath(WEIGHTS_FILE).is_file()
    weights = load_weights()
    assert weights["fields"] == NAMES
    assert AnswerLinker.default() is AnswerLinker.default()
    with pytest.raises(ValueError, match="fields"):
        AnswerLinker({**weights, "fields": NAMES[:-1]})


def test_corpus_lines_and_links() -> None:
    raw = [
        "=== rww [~r@host] has joined #ubuntu",
        "[23:58] <rww> how do I list chains?",
        "[23:59]  * KazaLite waves",
        "[00:01] <KazaLite> rww: iptables -L",
        "[00:01] <exon> ",
    ]
    lines = parse_lines("2009-03-03_10", raw)
    assert [(line.author, line.is_system, line.mentions) for line in lines] == [
        ("rww", True, frozenset()),
        ("rww", False, frozenset()),
        ("KazaLite", False, frozenset()),
        ("KazaLite", False, frozenset({"rww"})),
        ("exon", False, frozenset()),
    ]
    assert lines[3].at - lines[1].at == timedelta(minutes=3)
    assert read_gold(["1000 1000 -", "1000 1002 -", "998 1001 -", ""]) == {
        1000: {1000},
        1001: {998},
        1002: {1000},
    }


@pytest.mark.skipif(not (DEFAULT_CORPUS / "dev").is_dir(), reason="the IRC corpus is not here")
def test_dev_link_f1_beats_the_papers_linear_model() -> None:
    logs = read_dir(DEFAULT_CORPUS / "dev")
    linker = AnswerLinker(load_weights())

    def predict(log: AnnotatedLog, message: int) -> list[int]:
        found = linker.parent(log.lines[message], log.lines[:message])
        return [message if found is None else found.message_id]

    assert score_links(logs, predict).f1 >= 63.5
