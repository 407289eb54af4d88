"""Deployment settings: ``config.toml`` plus ``ENGAGEBOT_<SECTION>__<KEY>`` environment overrides.

Per-guild choices (inbox channel, staff roles, targets) live in the database and are changed with
slash commands; this file holds the operator's defaults and the deployment's wiring.
The token comes only from ``ENGAGEBOT_TOKEN`` or ``discord.token_file`` and is a ``SecretStr``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.domain.records import ContentPolicy

DEFAULT_CONFIG_PATH = Path("config.toml")
CONFIG_PATH_ENV = "ENGAGEBOT_CONFIG"
TOKEN_ENV = "ENGAGEBOT_TOKEN"  # noqa: S105 - the variable's name, not a token


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """Monday is 0, as in ``datetime.weekday()``."""
        return list(Weekday).index(self)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = Field(
        default="sqlite+aiosqlite:///engagebot.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///FILE or postgresql+asyncpg://...",
    )
    writer: Literal["process", "inline"] = Field(
        default="process",
        description=(
            "process: events are written by a second process (a second CPU core keeps up with "
            "busy communities); inline: by a task in the bot's own process"
        ),
    )

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                "(the two supported async drivers)"
            )
        return value


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class DefaultsSettings(_Section):
    """What a guild gets until its moderators choose otherwise."""

    timezone: str = "UTC"
    week_start: Weekday = Weekday.MONDAY
    summary_day: Weekday = Weekday.MONDAY
    summary_time: time = time(9, 0)
    response_target_minutes: int = Field(default=60, gt=0, le=7 * 24 * 60)

    @field_validator("timezone")
    @classmethod
    def _real_zone(cls, value: str) -> str:
        return validate_timezone(value)

    @field_validator("week_start", "summary_day", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


class PrivacySettings(_Section):
    store_content: ContentPolicy = ContentPolicy.QUESTIONS
    content_retention_days: int = Field(default=30, ge=1, le=3650)


class DiscordSettings(_Section):
    token_file: Path | None = None
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None

    @field_validator("token_file")
    @classmethod
    def _token_file_readable(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(
                f"cannot be read ({exc.strerror}); point it at a readable file holding "
                "only the bot token"
            ) from None
        if not text.strip():
            raise ValueError("the file is empty; it must hold the bot token")
        return path

    @model_validator(mode="after")
    def _shards_fit(self) -> DiscordSettings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("shard_ids needs shard_count as well")
            bad = [s for s in self.shard_ids if not 0 <= s < self.shard_count]
            if bad:
                raise ValueError(
                    f"shard_ids {bad} are outside 0..{self.shard_count - 1} "
                    f"(shard_count is {self.shard_count})"
                )
        return self


class InboxSettings(_Section):
    sweep_seconds: int = Field(default=30, ge=5, le=3600)
    """How often unanswered questions are checked against their targets."""


class MetricsSettings(_Section):
    port: int | None = Field(default=None, ge=1, le=65535)


def validate_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "is not a known IANA time zone; use a name such as UTC, Europe/Berlin "
            "or America/New_York"
        ) from None
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ENGAGEBOT_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )

    token: SecretStr | None = Field(default=None, exclude=True)
    database: DatabaseSettings = DatabaseSettings()
    logging: LoggingSettings = LoggingSettings()
    defaults: DefaultsSettings = DefaultsSettings()
    privacy: PrivacySettings = PrivacySettings()
    discord: DiscordSettings = DiscordSettings()
    inbox: InboxSettings = InboxSettings()
    metrics: MetricsSettings = MetricsSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init arguments; the environment overrides them.
        return (env_settings, init_settings)

    def read_token(self) -> SecretStr | None:
        """The token from ENGAGEBOT_TOKEN, else from ``discord.token_file``; None if neither."""
        if self.token is not None and self.token.get_secret_value().strip():
            return SecretStr(self.token.get_secret_value().strip())
        if self.discord.token_file is not None:
            return SecretStr(self.discord.token_file.read_text(encoding="utf-8").strip())
        return None


class ConfigError(Exception):
    """Bad settings, with one readable message that names the key, the value and what is allowed."""


def config_path_from(cli_path: Path | None, environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if cli_path is not None:
        return cli_path
    if environ.get(CONFIG_PATH_ENV):
        return Path(environ[CONFIG_PATH_ENV])
    return DEFAULT_CONFIG_PATH


def load_settings(cli_path: Path | None = None) -> Settings:
    """Read the config file (optional unless named explicitly) and the environment."""
    path = config_path_from(cli_path)
    explicit = cli_path is not None or bool(os.environ.get(CONFIG_PATH_ENV))
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot be read: {exc}") from None
    elif explicit:
        raise ConfigError(f"{path}: no such config file (copy config.example.toml to start)")
    if "token" in data:
        raise ConfigError(
            f"{path}: 'token' is not read from the config file, so it cannot leak with it; "
            f"set {TOKEN_ENV} or discord.token_file instead"
        )
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, path, data)) from None


def describe_validation_error(exc: ValidationError, path: Path, data: Mapping[str, Any]) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(settings)"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a known setting (see config.example.toml for every key)"
        value = _lookup(data, error["loc"])
        hidden = key == "token" or value is _MISSING or isinstance(value, Mapping)
        shown = "" if hidden else f" = {value!r}"
        lines.append(f"{key}{shown}: {message}")
    where = f"{path}" if path.exists() else "settings"
    return f"{where}: " + "; ".join(lines)


_MISSING = object()


def _lookup(data: Mapping[str, Any], loc: tuple[int | str, ...]) -> Any:
    node: Any = data
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            env = "ENGAGEBOT_" + "__".join(str(p).upper() for p in loc)
            if env in os.environ and env != TOKEN_ENV:
                return os.environ[env]
            return _MISSING
    return node
