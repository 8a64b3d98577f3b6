"""On-call escalation survives the death of the worker holding the member (issue 6)."""

from __future__ import annotations

import asyncio

from tests.cluster.conftest import Cluster

ONCALL = "oncall"


async def test_escalation_fires_once_after_the_members_worker_is_killed(cluster: Cluster) -> None:
    # A responder sets a short escalation time, then steps out: nobody is answering.
    setter = await cluster.client(0, ONCALL, "responder", "Setter", sub="setter")
    assert (await setter.call("room.settings", {"room": ONCALL, "escalate_after_seconds": 3}))["ok"]
    assert (await setter.call("leave", {"room": ONCALL}))["ok"]
    responder = await cluster.client(0, "*", "responder", "Ravi", join=False)
    assert (await responder.call("oncall.duty", {"on": True}))["ok"]
    facilitator = await cluster.client(1, "elsewhere", "facilitator", "Fay")

    await cluster.client(2, ONCALL, "member", "Mina", sub="mina")
    page = await responder.wait_private("oncall.page")
    assert page["tier"] == 1 and page["participant_id"] == "mina"

    cluster.workers[2].kill()  # the member's worker dies before the deadline

    def tier2(c: object) -> list[dict[str, object]]:
        return [d for n, d in c.private if n == "oncall.page" and d["tier"] == 2]  # type: ignore[attr-defined]

    await responder.wait_for(lambda: tier2(responder), timeout=10)
    await facilitator.wait_for(lambda: tier2(facilitator), timeout=10)
    # Two live workers poll the same timer: still one escalation, however long we wait.
    await asyncio.sleep(2.0)
    assert len(tier2(responder)) == 1 and len(tier2(facilitator)) == 1
    assert tier2(responder)[0]["participant_id"] == "mina"
