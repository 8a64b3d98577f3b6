"""Every audit action the core writes is classed on purpose (``store.base.audit_class``):
a new action that members can cause in volume must not land, unnoticed, in the ring kept
for staff and system actions."""

from __future__ import annotations

import re
from pathlib import Path

from server.store.base import SIGNAL_ACTIONS, SIGNAL_PREFIXES, audit_class

CORE = Path(__file__).resolve().parents[2] / "server" / "core"

# Staff and system actions as the core writes them today (kept in the long-lived ring).
ACTIONS = {"oncall.answered", "oncall.page", "oncall.escalate", "oncall.private", "room.end", "mute", "unmute",
           "ban", "remove", "lobby.admit", "lobby.deny", "message.delete", "message.approve", "message.reject",
           "invite.create", "invite.revoke", "schedule.set", "schedule.delete", "service.give", "service.take",
           "groups.start", "groups.end"}
# A meeting format's: set and cleared by the admin API, run by whoever chairs (the clock's
# moves are in the room log, not the audit).
ACTIONS |= {"format.set", "format.clear", "format.start", "format.advance", "format.end"}


def written_by_the_core() -> set[str]:
    found: set[str] = set()
    for path in CORE.glob("*.py"):
        text = path.read_text()
        # An action named by a variable would escape this scan: name it in the call.
        assert not re.findall(r'tx\.audit\(\s*[^"\s]', text), f"{path.name}: tx.audit with a computed action"
        found |= set(re.findall(r'tx\.audit\(\s*"([^"]+)"\s*[,)]', text))
        found |= set(re.findall(r'tx\.audit\(\s*"([^"]+)"\s*\+', text))  # a prefix: "alert." + kind
        for a, b in re.findall(r'tx\.audit\(\s*"([^"]+)"\s+if\s+[^,]+?\s+else\s+"([^"]+)"', text):
            found |= {a, b}
    return found


def test_every_action_the_core_audits_is_classed_on_purpose() -> None:
    found = written_by_the_core()
    assert {"report", "ban", "remove", "alert."} <= found  # the scan sees the core's calls
    unknown = {a for a in found if a not in ACTIONS and a not in SIGNAL_ACTIONS and a not in SIGNAL_PREFIXES}
    assert not unknown, f"class these in server/store/base.py (signal) or here (action): {sorted(unknown)}"


def test_classes() -> None:
    for action in ACTIONS:
        assert audit_class(action) == "action", action
    for action in ("report", "message.held", "message.blocked", "message.redacted", "alert.crisis", "alert.report"):
        assert audit_class(action) == "signal", action
    assert audit_class("something.new") == "action"  # unknown: kept long, and caught by the test above
