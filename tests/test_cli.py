"""The command line as an operator uses it: exit codes, messages, and no token in any output."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.invite import PERMISSIONS, application_id_from_token, required_permissions
from tests.cli import engagebot

SECRET = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-part.do-not-print"


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = engagebot("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "check-config", "db", "invite-url", "version"):
        assert command in result.stdout


def test_check_config_shows_settings_but_never_the_token(tmp_path: Path) -> None:
    result = engagebot("check-config", cwd=tmp_path, env={"ENGAGEBOT_TOKEN": SECRET})
    assert result.returncode == 0, result.stderr
    assert "defaults.timezone" in result.stdout
    assert "set (from ENGAGEBOT_TOKEN)" in result.stdout
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_bad_settings_exit_2_with_one_message_and_no_traceback(
    tmp_path: Path, command: str
) -> None:
    (tmp_path / "config.toml").write_text("[defaults]\nresponse_target_minutes = -1\n")
    result = engagebot(command, cwd=tmp_path, env={"ENGAGEBOT_TOKEN": SECRET})
    assert result.returncode == 2
    assert "defaults.response_target_minutes = -1" in result.stderr
    assert "greater than 0" in result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_run_without_a_token_explains_how_to_get_one(tmp_path: Path) -> None:
    result = engagebot("run", cwd=tmp_path)
    assert result.returncode == 2
    for hint in (
        "ENGAGEBOT_TOKEN",
        "Developer Portal".lower(),
        "MESSAGE CONTENT INTENT",
        "SERVER MEMBERS INTENT",
    ):
        assert hint.lower() in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_schema_once(tmp_path: Path) -> None:
    first = engagebot("db", "upgrade", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "upgraded: empty ->" in first.stdout
    assert (tmp_path / "engagebot.db").exists()
    again = engagebot("db", "upgrade", cwd=tmp_path)
    assert "newest schema" in again.stdout


def test_db_upgrade_on_an_unreachable_database_fails_readably(tmp_path: Path) -> None:
    env = {"ENGAGEBOT_DATABASE__URL": "postgresql+asyncpg://bot:hunter2@127.0.0.1:1/none"}
    result = engagebot("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "cannot upgrade" in result.stderr
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_invite_url_asks_for_exactly_the_needed_permissions(tmp_path: Path) -> None:
    result = engagebot("invite-url", "--client-id", "42", cwd=tmp_path)
    assert result.returncode == 0
    expected = required_permissions().value
    assert f"client_id=42&scope=bot+applications.commands&permissions={expected}" in result.stdout
    for name, _ in PERMISSIONS:
        assert name in result.stdout


def test_invite_url_reads_the_application_id_from_the_token(tmp_path: Path) -> None:
    result = engagebot("invite-url", cwd=tmp_path, env={"ENGAGEBOT_TOKEN": SECRET})
    assert "client_id=123456789012345678" in result.stdout
    assert SECRET not in result.stdout


def test_invite_url_without_id_or_token_says_what_to_give(tmp_path: Path) -> None:
    result = engagebot("invite-url", cwd=tmp_path)
    assert result.returncode == 2
    assert "--client-id" in result.stderr


@pytest.mark.parametrize(
    ("token", "expected"),
    [(SECRET, 123456789012345678), ("not-a-token", None), ("", None), ("@@@.x.y", None)],
)
def test_application_id_from_token(token: str, expected: int | None) -> None:
    assert application_id_from_token(token) == expected


def test_permissions_are_the_minimum() -> None:
    permissions = required_permissions()
    assert not permissions.administrator
    assert not permissions.manage_messages
    assert not permissions.mention_everyone
    assert permissions.read_message_history and permissions.send_messages


def test_version_and_python_m_bot_are_the_same_cli(tmp_path: Path) -> None:
    from bot import __version__

    result = engagebot("version", cwd=tmp_path)
    assert result.returncode == 0
    assert f"engagebot {__version__}" in result.stdout


def test_logged_secrets_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from bot import logs

    logs.hide_secret(SECRET)
    handler = logging.StreamHandler()
    handler.addFilter(logs._RedactSecrets())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    try:
        with caplog.at_level(logging.INFO, logger="tests.redaction"):
            logger.info("connecting with %s", SECRET)
    finally:
        logger.removeHandler(handler)
    assert all(SECRET not in r.getMessage() for r in caplog.records)
