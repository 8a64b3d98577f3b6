"""Typed, validated reading of configuration tables and other untrusted dicts.

The server validates its configuration at start, so every wrong type, out-of-range value
or misspelt key is a ``ValueError`` that names the table and the key.

One approach for all of them: a pydantic model (``Options``: strict types, unknown keys
refused) per table, read with ``read_table``, whose errors ``describe`` turns into one
line naming the place. ``server/config.py`` reads its file with these too (this package
does not import the server, so the shared piece lives here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Final, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

# A hook that needs longer than this to judge one chat message would stall the room;
# the bound also catches "timeout_s = 2000" typed for milliseconds.
MAX_TIMEOUT_S: Final = 30.0

Loc = tuple[int | str, ...]
M = TypeVar("M", bound=BaseModel)


class Options(BaseModel):
    """The base of every configuration table's schema: strict types (a quoted number is
    a mistake, not a number) and misspelt keys refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("every entry must be a non-empty string")
    return value.strip()


# A list entry such as a term or a domain: trimmed, and never blank (a blank term would
# match everywhere).
Entry = Annotated[str, AfterValidator(_non_empty)]


# Seconds a hook may take on one message.
Timeout = Annotated[float, Field(gt=0, le=MAX_TIMEOUT_S, allow_inf_nan=False)]


class HookOptions(Options):
    """The options every hook understands: its fail policy and how long it may take.

    A hook's own table subclasses this, redeclaring a field to change its default
    (``fail_open: bool = True``).
    """

    fail_open: bool = False
    timeout_s: Timeout = 1.0


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
