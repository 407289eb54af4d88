"""Settings: the file, the environment, readable errors, and a token that is never shown."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.settings import ConfigError, Weekday, load_settings

SECRET = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-part.do-not-print"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("ENGAGEBOT_") and name not in {
            "ENGAGEBOT_TEST_PG_URL",
            "ENGAGEBOT_PG_BIN",
        }:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_the_documented_defaults() -> None:
    settings = load_settings()
    assert settings.database.url == "sqlite+aiosqlite:///engagebot.db"
    assert settings.defaults.timezone == "UTC"
    assert settings.defaults.week_start is Weekday.MONDAY
    assert settings.defaults.summary_time == time(9, 0)
    assert settings.defaults.response_target_minutes == 60
    assert settings.privacy.store_content == "questions"
    assert settings.read_token() is None


def test_the_example_config_is_valid_and_matches_the_defaults(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    assert load_settings(example) == load_settings()


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[defaults]\ntimezone = "Europe/Berlin"\nresponse_target_minutes = 30\n')
    monkeypatch.setenv("ENGAGEBOT_DEFAULTS__RESPONSE_TARGET_MINUTES", "45")
    settings = load_settings(path)
    assert settings.defaults.timezone == "Europe/Berlin"
    assert settings.defaults.response_target_minutes == 45


def test_the_config_path_can_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('[logging]\nlevel = "debug"\n', encoding="utf-8")
    monkeypatch.setenv("ENGAGEBOT_CONFIG", str(path))
    assert load_settings().logging.level == "DEBUG"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[defaults]\ntimezone = "Mars/Olympus"',
            ["defaults.timezone", "'Mars/Olympus'", "IANA time zone"],
        ),
        (
            "[defaults]\nresponse_target_minutes = -5",
            ["defaults.response_target_minutes", "-5", "greater than 0"],
        ),
        (
            '[defaults]\nresponse_target_minutes = "soon"',
            ["response_target_minutes", "'soon'", "valid integer"],
        ),
        ("[defaults]\ncolour = 1", ["defaults.colour", "not a known setting"]),
        ("[shiny]\nx = 1", ["shiny", "not a known setting"]),
        ("[defaults\n", ["not valid TOML", "line 1"]),
        ('[defaults]\nweek_start = "someday"', ["defaults.week_start", "'someday'", "monday"]),
        ('[defaults]\nsummary_time = "25:00"', ["defaults.summary_time", "'25:00'"]),
        ('[privacy]\nstore_content = "everything"', ["privacy.store_content", "'all'"]),
        ('[database]\nurl = "mysql://x"', ["database.url", "sqlite+aiosqlite://"]),
        ('[discord]\ntoken_file = "missing.txt"', ["discord.token_file", "cannot be read"]),
        ("[discord]\nshard_count = 2\nshard_ids = [0, 2]", ["shard_ids", "outside 0..1"]),
        (f'token = "{SECRET}"', ["'token' is not read from the config file", "ENGAGEBOT_TOKEN"]),
    ],
)
def test_bad_settings_get_one_readable_message(
    tmp_path: Path, toml: str, expected: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, toml))
    message = str(caught.value)
    for part in expected:
        assert part in message
    assert "\n" not in message.strip() or "TOML" in message
    assert SECRET not in message


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "nope.toml")


def test_the_token_comes_from_the_environment_and_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENGAGEBOT_TOKEN", SECRET)
    settings = load_settings()
    token = settings.read_token()
    assert token is not None and token.get_secret_value() == SECRET
    for shown in (repr(settings), str(settings), settings.model_dump_json(), repr(token)):
        assert SECRET not in shown


def test_the_token_can_come_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    settings = load_settings(write(tmp_path, '[discord]\ntoken_file = "token.txt"\n'))
    token = settings.read_token()
    assert token is not None and token.get_secret_value() == SECRET


def test_an_empty_token_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"discord\.token_file.*empty"):
        load_settings(write(tmp_path, '[discord]\ntoken_file = "token.txt"\n'))


def test_a_bad_environment_value_names_the_variable_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENGAGEBOT_DEFAULTS__TIMEZONE", "Atlantis/Capital")
    with pytest.raises(ConfigError, match=r"defaults\.timezone = 'Atlantis/Capital'"):
        load_settings()
