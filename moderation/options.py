"""Typed, validated reading of configuration tables and other untrusted dicts.

The server validates its configuration at start, so every wrong type, out-of-range value
or misspelt key is a ``ValueError`` that names the table and the key.

One approach for all of them: a pydantic model (``Options``: strict types, unknown keys
refused) per table, read with ``read_table``, whose errors ``describe`` turns into one
line naming the place. ``server/config.py`` reads its file with these too (this package
does not import the server, so the shared piece lives here). ``OptionTable`` below is
the older hand-written reader that the built-in hooks still use.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

# A hook that needs longer than this to judge one chat message would stall the room;
# the bound also catches "timeout_s = 2000" typed for milliseconds.
MAX_TIMEOUT_S: Final = 30.0

Loc = tuple[int | str, ...]
M = TypeVar("M", bound=BaseModel)


class Options(BaseModel):
    """The base of every configuration table's schema: strict types (a quoted number is
    a mistake, not a number) and misspelt keys refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def path(loc: Loc) -> str:
    """``("ice_servers", 0, "urls")`` as ``ice_servers[0].urls``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def describe(error: ValidationError, where: Callable[[Loc], str]) -> str:
    """One line for an operator: the place (``where(loc)``) and what is wrong there.

    Unknown keys come first, all of one table together (most often a typo); otherwise
    the first error. A message a validator of ours raised is given as it is, without
    pydantic's "Value error, " in front.
    """
    errors = error.errors(include_url=False)
    extra = [e for e in errors if e["type"] == "extra_forbidden"]
    if extra:
        parent = extra[0]["loc"][:-1]
        names = ", ".join(str(e["loc"][-1]) for e in extra if e["loc"][:-1] == parent)
        return f"{where(parent)}: unknown key(s) {names}"
    err = errors[0]
    if err["type"] == "value_error":
        message = str(err.get("ctx", {}).get("error", err["msg"]))
    elif err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        message = "expected a table"
    else:
        message = err["msg"]
    return f"{where(err['loc'])}: {message}"


def read_table(model: type[M], table: object, where: str) -> M:
    """``table`` (``None``: empty) validated by ``model``; a ``ValueError`` that names
    ``where`` and the key otherwise (``[media] ice_servers[0].urls: Field required``)."""
    try:
        return model.model_validate({} if table is None else table)
    except ValidationError as e:
        raise ValueError(describe(e, lambda loc: f"{where} {path(loc)}" if loc else where)) from None


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
