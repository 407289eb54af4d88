"""The question detector (METRICS.md, "Questions and responses"), rule by rule, then on the
labelled data set that bench/questions.py scores."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import question_phrases
from bot.domain.questions import (
    _LEADING,
    _LEADING_PATTERNS,
    QuestionContext,
    QuestionSource,
    _is_laugh,
    _plain,
    _without_filler,
    classify_question,
    looks_like_question,
    visible_text,
)

DATA = Path(__file__).parent / "data" / "questions" / "questions.jsonl"
LANGUAGES = {"en", "es", "de", "fr", "pt", "nl", "sv", "da", "fi"}

STAFF = QuestionContext(author_is_staff=True)
FORUM = QuestionContext(forum_post_opening=True)
HELP = QuestionContext(help_channel=True)
MENTION = QuestionContext(mentions_staff_or_bot=True)


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("thanks, that worked", FORUM, QuestionSource.FORUM_POST),
        ("", FORUM, QuestionSource.FORUM_POST),
        (None, FORUM, QuestionSource.FORUM_POST),
        ("my setup: python 3.12, debian", HELP, QuestionSource.HELP_CHANNEL),
        ("", HELP, QuestionSource.HELP_CHANNEL),
        ("how do I install the bot?", QuestionContext(), QuestionSource.DETECTED),
        ("<@1> the bot deleted my post, please look", MENTION, QuestionSource.MENTION),
        ("<@1> help", MENTION, QuestionSource.DETECTED),
        ("<@1> can you check my ticket", MENTION, QuestionSource.DETECTED),
        ("<@1> hilfe, der Bot hat meinen Beitrag gelöscht", MENTION, QuestionSource.DETECTED),
        ("<@1> le bot a supprimé mon message, aide svp", MENTION, QuestionSource.MENTION),
        ("<@1> the bot deleted my post, please look", QuestionContext(), None),
        ("<@1> thanks for earlier!", MENTION, None),
        ("<@1> lol", MENTION, None),
        ("", QuestionContext(), None),
        (None, MENTION, None),
        # Staff never ask, wherever they write and whatever they write.
        ("how do I install the bot?", STAFF, None),
        (
            "anyone seen the new logo",
            QuestionContext(author_is_staff=True, help_channel=True),
            None,
        ),
        ("welcome!", QuestionContext(author_is_staff=True, forum_post_opening=True), None),
        (
            "<@1> please help",
            QuestionContext(author_is_staff=True, mentions_staff_or_bot=True),
            None,
        ),
        # The place comes before the text.
        ("how do I install the bot?", FORUM, QuestionSource.FORUM_POST),
        ("how do I install the bot?", HELP, QuestionSource.HELP_CHANNEL),
    ],
)
def test_sources(
    text: str | None, context: QuestionContext, expected: QuestionSource | None
) -> None:
    assert classify_question(text, context) is expected


def test_the_default_context_is_an_ordinary_member_in_a_watched_channel() -> None:
    assert classify_question("how do I install the bot?") is QuestionSource.DETECTED
    assert QuestionSource.FLAGGED.value == "flagged"  # set by the moderator's command only


@pytest.mark.parametrize(
    "text",
    [
        # A question mark in the author's own words.
        "the bot is down again?",
        "Could anyone critique my first chapter? it's about 3k words",
        "set up the help channels?? been at it for an hour",
        "is this the right link https://docs.example.org/setup?",
        "**is the dashboard** open source?",
        "> run the migrations first\ndid that, still the same error. what next?",
        "```py\nprint(1)\n```\nwhy does this print 1 twice?",
        "hey <@&1045112341210009> can someone unmute me",
        # English: interrogative word orders and requests, no question mark.
        "how do I get the guild id from an interaction",
        "how to fix missing permissions",
        "how long does the review take",
        "what's the command to export the stats",
        "what time does the tournament start",
        "which python version do you need",
        "where do I report a cheater",
        "why my bot goes offline every night",
        "who's hosting the game night",
        "is there a way to run the tests without postgres",
        "does anyone have a working docker-compose",
        "can someone review my PR",
        "should I rebase or merge",
        "anyone know a cheap host",
        "any tips for writing tests for cogs",
        "help, my bot crashed",
        "need help with the migrations",
        "wondering if anyone has a migration script",
        "looking for someone to test the mod",
        "hmm is there a reason the inbox is empty",
        "so how do I fix it then",
        "# Bot not responding\nit ignores every command. any ideas",
        "can't find the submission form, where is it",
        # Spanish
        "¿Dónde encuentro el enlace de invitación",
        "cómo puedo cambiar el prefijo",
        "alguien sabe por qué no aparecen los comandos",
        "hay alguna forma de exportar las estadísticas",
        "qué versión de python necesito",
        "necesito ayuda con el error 50013",
        # German
        "wie kann ich den Bot installieren",
        "weiß jemand, warum die Befehle fehlen",
        "gibt es eine Möglichkeit, die Statistik zu exportieren",
        "hat jemand Lust zu zocken",
        "welche Python-Version brauche ich",
        "brauche Hilfe mit alembic",
        # French
        "comment faire pour changer le préfixe",
        "quelqu'un sait pourquoi les commandes n'apparaissent pas",
        "est-ce que quelqu'un peut m'aider",
        "y a-t-il une limite de boutons",
        "pouvez-vous m'aider avec la config",
        "besoin d'aide avec les migrations",
        # Portuguese
        "como faço pra mudar o prefixo",
        "alguém sabe por que os comandos não aparecem",
        "tem como exportar as estatísticas",
        "qual a melhor forma de guardar o token",
        "preciso de ajuda com as migrações",
        # Dutch
        "hoe kan ik het prefix veranderen",
        "weet iemand waarom de commands niet verschijnen",
        "is er een manier om te exporteren",
        "werkt het ook met postgres",
        "ik heb hulp nodig met de migraties",
        # Swedish
        "hur gör jag för att ändra prefixet",
        "vet någon varför kommandona inte syns",
        "finns det något sätt att exportera",
        "kan jag använda det kommersiellt",
        "behöver hjälp med migreringarna",
        # Danish
        "hvordan gør jeg for at ændre præfikset",
        "ved nogen hvorfor kommandoerne ikke vises",
        "er der en måde at eksportere på",
        "må jeg bruge det kommercielt",
        "har brug for hjælp med migreringerne",
        # Finnish, with the -ko/-kö question clitic on the first word
        "miten saan prefixin vaihdettua",
        "tietääkö joku miksi komennot ei näy",
        "toimiiko tää windowsilla",
        "onko mitään tapaa viedä tilastot",
        "mikä on paras tapa tallentaa token",
        "tarvitsen apua migraatioiden kanssa",
    ],
)
def test_questions(text: str) -> None:
    assert classify_question(text) is QuestionSource.DETECTED
    assert looks_like_question(text)


@pytest.mark.parametrize(
    "text",
    [
        # A question mark only in code, quotes or URLs.
        "just use `cond ? a : b`",
        "```js\nconst label = n > 1 ? 'items' : 'item';\n```\nthis is what I ended up with",
        "the regex is `^\\d+?$`, works fine now",
        "docs: https://docs.example.org/search?q=intents&v=2",
        "<https://example.com/?a=1> has it",
        "> how do I reset the config?\ndelete config.toml and run setup again",
        ">>> is this on windows?\nand linux?\nyes, both",
        # One word, an interjection or disbelief.
        "what?",
        "huh?",
        "really?",
        "lol?",
        "why?!",
        "wat",
        "???",
        "hello?",
        "you serious?",
        "are you kidding me? two hours for a comma",
        "wait what??",
        "¿en serio?",
        "echt jetzt?",
        "sérieux ?",
        "oikeesti?",
        # Jokes, hype and sighs.
        "who even cares lol?",
        "how is that even possible",
        "why would anyone write it like that lol",
        "¿a quién le importa? jaja",
        "wer braucht schon Schlaf lol",
        "who's ready for season 4?!",
        "did you see that?!",
        "why not both",
        "how did I not see that 🤦",
        # Greetings and small talk.
        "hi all",
        "gm",
        "how's everyone doing?",
        "how are you all?",
        "what's up everyone",
        "good morning? is it still morning for anyone lol",
        "anyone awake? 😴",
        "¿qué tal?",
        "quoi de neuf ?",
        "tudo bem?",
        "hoe gaat het?",
        "na, alles klar?",
        "läget?",
        "hvordan går det?",
        "mitä kuuluu?",
        # Statements that open with a question word or a verb.
        "what I ended up doing is running it from cron",
        "how I fixed it: reinstalled the venv",
        "which is why I switched to postgres",
        "when in doubt, restart",
        "what a mess",
        "can confirm, it's broken on 3.12 too",
        "would be nice to have dark mode",
        "<#1045112341210002> has the answer to that",
        "comment on the PR if you have feedback",
        "como eu disse, tem que reiniciar",
        "qué buena partida",
        "wie geil ist das denn",
        "quelle partie de fou hier soir",
        "wat een potje gisteren",
        "vilken match igår",
        "hvilken kamp i går",
        "mikä peli eilen",
        "verkko ei toimi taas",
        "looking forward to the release!",
        "thanks, that fixed it!",
    ],
)
def test_not_questions(text: str) -> None:
    assert classify_question(text) is None
    assert not looks_like_question(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words", "plain words"),
        ("use `x ? y : z` here", "use   here"),
        ("a\n```py\nx?\n```\nb", "a\n \nb"),
        ("> quoted?\nmine", " \nmine"),
        ("see https://x.org/a?b=1.", "see  ."),
        ("is it https://x.org/a?", "is it  ?"),
    ],
)
def test_visible_text(text: str, expected: str) -> None:
    assert visible_text(text) == expected


def labelled() -> list[dict[str, object]]:
    with DATA.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_the_data_set_is_big_enough_and_covers_the_languages() -> None:
    rows = labelled()
    languages = Counter(str(row["lang"]) for row in rows)
    assert len(rows) >= 600
    assert set(languages) == LANGUAGES
    assert min(languages.values()) >= 25
    assert all(
        isinstance(row["text"], str) and isinstance(row["is_question"], bool) for row in rows
    )


def test_precision_on_the_data_set() -> None:
    """The acceptance gate: the inbox must not fill with messages that are not questions.
    Recall has a floor too, so that asking less cannot buy the precision."""
    rows = labelled()
    got = [(looks_like_question(str(row["text"])), row["is_question"]) for row in rows]
    true_positive = sum(1 for flagged, question in got if flagged and question)
    flagged = sum(1 for flagged, _ in got if flagged)
    questions = sum(1 for _, question in got if question)
    assert true_positive / flagged >= 0.9
    assert true_positive / questions >= 0.8


_VOCABULARY = (
    *("how", "do", "i", "is", "there", "anyone", "which", "is", "why", "what", "can", "you"),
    *("help", "me", "wie", "kann", "ich", "est-ce", "que", "peux-tu", "y", "a-t-il", "ça"),
    *("onko", "täällä", "voinko", "qué", "es", "cómo", "puedo", "hoe", "kan", "ik", "vad"),
    *("är", "hvad", "er", "mikä", "on", "lol", "yeah", "the", "1", "@", "🎉", "-", "'s"),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_VOCABULARY) | st.text(max_size=4), min_size=1, max_size=6).map(
        " ".join
    )
)
def test_the_first_character_index_matches_as_one_alternation_would(text: str) -> None:
    whole = re.compile("|".join(_LEADING_PATTERNS))
    assert (_LEADING.match(text) is None) == (whole.match(text) is None)


_LAUGHS = ("lol", "looool", "lmao", "xd", "kkkk", "hahah", "jajaja", "rsrs", "😂😂", "💀", "kek")


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_LAUGHS) | st.sampled_from(_VOCABULARY) | st.text(max_size=6))
def test_laughter_is_recognised_as_the_whole_pattern_would(word: str) -> None:
    laugh = re.compile(question_phrases.LAUGHTER)
    assert _is_laugh(word) == (laugh.fullmatch(word) is not None)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from((*_LAUGHS, *_VOCABULARY, "?", "!", "?!", " ", "¿")) | st.text(max_size=3),
        max_size=8,
    ).map("".join)
)
def test_laughter_after_a_question_mark_moves_as_one_substitution_would(text: str) -> None:
    laugh_after = re.compile(rf"([?!]+)[ \t]*({question_phrases.LAUGHTER})(?!\w)")
    lowered = text.lower().replace("’", "'")
    if "  " not in lowered and "\t" not in lowered and not set("`><:*~|#").intersection(lowered):
        assert _plain(text) == laugh_after.sub(r" \2\1", lowered)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(("hey", "ok so", "um", "btw", "hola", "quick question", "¿", ",", " "))
        | st.sampled_from(_VOCABULARY)
        | st.text(max_size=3),
        max_size=6,
    ).map(" ".join)
)
def test_fillers_are_removed_as_the_whole_pattern_would(clause: str) -> None:
    filler = re.compile(question_phrases.FILLER)
    expected = clause.lstrip(" ¿¡")
    if (start := filler.match(expected)) is not None:
        expected = expected[start.end() :].lstrip(" ¿¡")
    assert _without_filler(clause) == expected
