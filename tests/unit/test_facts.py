"""The gateway's schemas and the core agree on every rule, because the core is their source."""

from __future__ import annotations

import pytest

from server.core.commands import MILESTONE_DAYS, REACTIONS
from server.core.errors import CommandError
from server.core.model import ROOM_ID_MESSAGE, SETTING_CHOICES, SETTING_RANGES, SETTINGS_FIELDS, Settings
from server.gateway.schemas import MilestoneShare, ReactionSend, RoomPayload, SettingsPayload, parse


def test_the_settings_schema_names_every_setting_of_the_core() -> None:
    assert set(SettingsPayload.model_fields) - {"room"} == SETTINGS_FIELDS


@pytest.mark.parametrize("name", sorted(SETTING_RANGES))
def test_setting_bounds_are_the_same_at_the_edge_and_in_the_core(name: str) -> None:
    lo, hi = SETTING_RANGES[name]
    for ok in (lo, hi):
        parse(SettingsPayload, {"room": "r", name: ok})
        Settings().updated({name: ok})
    for bad in (lo - 1, hi + 1):
        with pytest.raises(CommandError):
            parse(SettingsPayload, {"room": "r", name: bad})
        with pytest.raises(CommandError):
            Settings().updated({name: bad})


@pytest.mark.parametrize("name", sorted(SETTING_CHOICES))
def test_setting_choices_are_the_same_at_the_edge_and_in_the_core(name: str) -> None:
    for ok in SETTING_CHOICES[name]:
        parse(SettingsPayload, {"room": "r", name: ok})
        Settings().updated({name: ok})
    with pytest.raises(CommandError):
        parse(SettingsPayload, {"room": "r", name: "nonsense"})


def test_reactions_milestones_and_room_ids_come_from_the_core() -> None:
    for kind in REACTIONS:
        parse(ReactionSend, {"room": "r", "kind": kind})
    parse(MilestoneShare, {"room": "r", "days": MILESTONE_DAYS.hi})
    with pytest.raises(CommandError):
        parse(MilestoneShare, {"room": "r", "days": MILESTONE_DAYS.hi + 1})
    with pytest.raises(CommandError):
        parse(RoomPayload, {"room": "Not-A-Room"})
    assert "^[a-z0-9][a-z0-9-]{0,63}$" in ROOM_ID_MESSAGE
