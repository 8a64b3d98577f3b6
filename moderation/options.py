"""Typed, validated reading of one ``[moderation.<hook>]`` option table.

The server validates its configuration at start, so every wrong type, out-of-range value
or misspelt key is a ``ValueError`` that names the table and the key.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Final

# A hook that needs longer than this to judge one chat message would stall the room;
# the bound also catches "timeout_s = 2000" typed for milliseconds.
MAX_TIMEOUT_S: Final = 30.0


class OptionTable:
    """Reads typed values out of a mapping and remembers which keys were read."""

    def __init__(self, table: Mapping[str, Any] | None, where: str) -> None:
        if table is None:
            table = {}
        if not isinstance(table, Mapping):
            raise ValueError(f"{where}: expected a table, got {_kind(table)}")
        for key in table:
            if not isinstance(key, str):
                raise ValueError(f"{where}: option names must be strings, got {key!r}")
        self._table: Mapping[str, Any] = table
        self._read: set[str] = set()
        self.where = where

    def has(self, key: str) -> bool:
        return key in self._table

    def _get(self, key: str) -> Any:
        self._read.add(key)
        return self._table.get(key)

    def _error(self, key: str, expected: str, value: Any) -> ValueError:
        return ValueError(f"{self.where} {key}: expected {expected}, got {_kind(value)}")

    def get_bool(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._error(key, "true or false", value)
        return value

    def get_int(self, key: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, "an integer", value)
        _check_range(self.where, key, value, minimum, maximum)
        return value

    def get_float(
        self,
        key: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
    ) -> float:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._error(key, "a number", value)
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise self._error(key, "a finite number", value)
        if exclusive_minimum and minimum is not None and number <= minimum:
            raise ValueError(f"{self.where} {key}: must be greater than {minimum}, got {number}")
        _check_range(self.where, key, number, minimum, maximum)
        return number

    def get_table(self, key: str) -> Mapping[str, Any] | None:
        value = self._get(key)
        if value is not None and not isinstance(value, Mapping):
            raise self._error(key, "a table", value)
        return value

    def get_str(self, key: str, default: str) -> str:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self._error(key, "a string", value)
        return value

    def require_str(self, key: str) -> str:
        value = self._get(key)
        if value is None:
            raise ValueError(f"{self.where}: {key} is required")
        if not isinstance(value, str) or not value.strip():
            raise self._error(key, "a non-empty string", value)
        return value

    def get_choice(self, key: str, default: str, choices: Collection[str]) -> str:
        value = self.get_str(key, default)
        if value not in choices:
            allowed = ", ".join(repr(c) for c in choices)
            raise ValueError(f"{self.where} {key}: expected one of {allowed}, got {value!r}")
        return value

    def get_str_list(self, key: str, default: Collection[str] = ()) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return tuple(default)
        if not isinstance(value, (list, tuple)):
            raise self._error(key, "a list of strings", value)
        items: list[str] = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise ValueError(f"{self.where} {key}: every entry must be a non-empty string, got {_kind(item)}")
            items.append(item.strip())
        return tuple(items)

    def read_policy(self, *, fail_open: bool, timeout_s: float) -> tuple[bool, float]:
        """The options every hook understands: ``fail_open`` and ``timeout_s``."""
        return (
            self.get_bool("fail_open", fail_open),
            self.get_float("timeout_s", timeout_s, minimum=0.0, maximum=MAX_TIMEOUT_S, exclusive_minimum=True),
        )

    def finish(self) -> None:
        """Raise on any key nobody asked for: most often a typo."""
        unknown = sorted(set(self._table) - self._read)
        if unknown:
            names = ", ".join(repr(k) for k in unknown)
            raise ValueError(f"{self.where}: unknown option(s) {names}")


def _check_range(where: str, key: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ValueError(f"{where} {key}: must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{where} {key}: must be at most {maximum}, got {value}")


def _kind(value: Any) -> str:
    """Describe a wrong value without echoing long strings back into logs."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"a string of {len(value)} characters"
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return type(value).__name__
