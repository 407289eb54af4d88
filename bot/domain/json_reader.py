"""Reading exported JSON with a path for every problem, such as ``$.messages[12].author.id``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MAX_SNOWFLAKE = 2**63 - 1  # the database keeps ids as signed 64-bit integers
_DIGITS = re.compile(r"[0-9]{1,20}")


class ExportFormatError(ValueError):
    """A problem in an export, at a JSON path such as ``$.messages[12].author.id``."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


_MISSING = object()


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _shown(value: str) -> str:
    """A short, quoted excerpt of an id or a time (never used for message text)."""
    return repr(value if len(value) <= 40 else value[:37] + "...")


class JsonObject:
    """A JSON object at a path, with typed accessors that fail with the field's path."""

    __slots__ = ("data", "path")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise ExportFormatError(path, f"expected an object, found {_kind_of(data)}")
        self.data: dict[str, object] = data
        self.path = path

    def _get(self, key: str) -> object:
        return self.data.get(key, _MISSING)

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def _required(self, key: str) -> object:
        value = self._get(key)
        if value is _MISSING:
            raise ExportFormatError(self._at(key), "required field is missing")
        return value

    def _wrong(self, key: str, expected: str, value: object) -> ExportFormatError:
        return ExportFormatError(self._at(key), f"expected {expected}, found {_kind_of(value)}")

    def child(self, key: str) -> JsonObject:
        return JsonObject(self._required(key), self._at(key))

    def optional_child(self, key: str) -> JsonObject | None:
        value = self._get(key)
        if value is _MISSING or value is None:
            return None
        return JsonObject(value, self._at(key))

    def array(self, key: str) -> list[tuple[str, object]]:
        value = self._required(key)
        if not isinstance(value, list):
            raise self._wrong(key, "an array", value)
        return [(f"{self._at(key)}[{i}]", item) for i, item in enumerate(value)]

    def optional_array(self, key: str) -> list[tuple[str, object]]:
        """An array that older exporters may omit: missing or null is empty."""
        return self.array_or_none(key) or []

    def array_or_none(self, key: str) -> list[tuple[str, object]] | None:
        value = self._get(key)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, list):
            raise self._wrong(key, "an array", value)
        return [(f"{self._at(key)}[{i}]", item) for i, item in enumerate(value)]

    def string(self, key: str) -> str:
        value = self._required(key)
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        return value

    def optional_string(self, key: str) -> str | None:
        value = self._get(key)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "a string or null", value)
        return value

    def flag(self, key: str) -> bool:
        value = self._required(key)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def snowflake(self, key: str) -> int:
        value = self._required(key)
        if not isinstance(value, str):
            raise self._wrong(key, "an id (a string of digits)", value)
        return self._id(key, value)

    def optional_snowflake(self, key: str) -> int | None:
        """An id that may be absent: missing, null, "" and "0" (the exporter's "none") are None."""
        value = self._get(key)
        if value is _MISSING or value is None or value in ("", "0"):
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "an id (a string of digits) or null", value)
        return self._id(key, value)

    def _id(self, key: str, value: str) -> int:
        if not _DIGITS.fullmatch(value):
            raise ExportFormatError(
                self._at(key), f"{_shown(value)} is not a Discord id (a string of digits)"
            )
        number = int(value)
        if not 0 < number <= _MAX_SNOWFLAKE:
            raise ExportFormatError(self._at(key), f"{_shown(value)} is too large for a Discord id")
        return number

    def moment(self, key: str) -> datetime:
        value = self._required(key)
        if not isinstance(value, str):
            raise self._wrong(key, "an ISO 8601 time (a string)", value)
        return self._moment(key, value)

    def optional_moment(self, key: str) -> datetime | None:
        value = self._get(key)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "an ISO 8601 time (a string) or null", value)
        return self._moment(key, value)

    def _moment(self, key: str, value: str) -> datetime:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ExportFormatError(
                self._at(key), f"{_shown(value)} is not an ISO 8601 date and time"
            ) from None
        if moment.tzinfo is None:
            raise ExportFormatError(
                self._at(key), f"{_shown(value)} has no UTC offset (such as +00:00)"
            )
        return moment.astimezone(UTC)
