"""Rate limit and slow mode on the injected clock."""

from __future__ import annotations

import pytest

from moderation.hooks.rate_limit import RateLimitHook, from_options
from moderation.verdict import Action, Alert, MessageContext, Verdict


def msg(
    now_ms: int, *, sender: str = "ana", room: str = "circle-a", role: str = "member", slow: int = 0,
    staff: bool = False,
) -> MessageContext:
    return MessageContext(room, "circle", sender, role, "hello", now_ms, slow_mode_seconds=slow,
                          sender_is_staff=staff)


def test_five_messages_in_ten_seconds_then_blocked_with_one_flood_alert() -> None:
    hook = RateLimitHook()
    for i in range(5):
        assert hook.judge(msg(1_000 + i * 100)).action is Action.ALLOW
    sixth = hook.judge(msg(1_600))
    assert sixth == Verdict(
        Action.BLOCK, reason="rate_limited", alerts=(Alert("flood", "more than 5 messages in 10 s"),)
    )
    seventh = hook.judge(msg(1_700))
    assert seventh.action is Action.BLOCK and seventh.alerts == ()  # one alert per burst


def test_the_window_slides() -> None:
    hook = RateLimitHook(per_10s=2)
    assert hook.judge(msg(0)).action is Action.ALLOW
    assert hook.judge(msg(5_000)).action is Action.ALLOW
    assert hook.judge(msg(9_999)).action is Action.BLOCK
    assert hook.judge(msg(10_000)).action is Action.ALLOW  # the message at 0 left the window
    assert hook.judge(msg(10_001)).action is Action.BLOCK


def test_a_new_burst_alerts_again() -> None:
    hook = RateLimitHook(per_10s=1)
    assert hook.judge(msg(0)).action is Action.ALLOW
    assert hook.judge(msg(1)).alerts  # first burst
    assert hook.judge(msg(10_000)).action is Action.ALLOW  # back under the limit
    assert hook.judge(msg(10_001)).alerts  # second burst, second alert


def test_senders_and_rooms_are_limited_separately() -> None:
    hook = RateLimitHook(per_10s=1)
    assert hook.judge(msg(0, sender="ana")).action is Action.ALLOW
    assert hook.judge(msg(1, sender="ben")).action is Action.ALLOW
    assert hook.judge(msg(2, sender="ana", room="circle-b")).action is Action.ALLOW
    assert hook.judge(msg(3, sender="ana")).action is Action.BLOCK


def test_slow_mode_allows_one_message_per_n_seconds_for_members() -> None:
    hook = RateLimitHook()
    assert hook.judge(msg(0, slow=30)).action is Action.ALLOW
    assert hook.judge(msg(29_999, slow=30)) == Verdict(Action.BLOCK, reason="slow_mode")
    assert hook.judge(msg(30_000, slow=30)).action is Action.ALLOW


def test_staff_are_exempt_from_slow_mode() -> None:
    hook = RateLimitHook()
    for role in ("facilitator", "responder"):
        for i in range(3):
            assert hook.judge(msg(i * 1_000, sender=role, role=role, slow=60, staff=True)).action is Action.ALLOW


def test_a_role_alone_does_not_exempt_from_slow_mode() -> None:
    # Whether a sender is staff in the room is the server's answer (``sender_is_staff``):
    # a responder in a circle has member powers there, and slow mode holds them.
    hook = RateLimitHook()
    assert hook.judge(msg(0, sender="ravi", role="responder", slow=60)).action is Action.ALLOW
    assert hook.judge(msg(1_000, sender="ravi", role="responder", slow=60)).reason == "slow_mode"


def test_facilitators_are_still_rate_limited() -> None:
    hook = RateLimitHook(per_10s=2)
    hook.judge(msg(0, role="facilitator"))
    hook.judge(msg(1, role="facilitator"))
    assert hook.judge(msg(2, role="facilitator")).reason == "rate_limited"


def test_slow_mode_off_means_only_the_rate_limit() -> None:
    hook = RateLimitHook()
    assert hook.judge(msg(0, slow=0)).action is Action.ALLOW
    assert hook.judge(msg(1, slow=0)).action is Action.ALLOW


def test_memory_is_bounded_by_eviction() -> None:
    hook = RateLimitHook(max_tracked=100)
    for i in range(1_000):  # a thousand senders inside one window
        hook.judge(msg(i, sender=f"s{i}"))
    assert hook.tracked <= 100
    hook.judge(msg(1_000_000, sender="late"))  # everyone else is long idle
    assert hook.tracked == 1


def test_idle_senders_are_forgotten_after_the_window() -> None:
    hook = RateLimitHook()
    for i in range(50):
        hook.judge(msg(i, sender=f"s{i}"))
    hook.judge(msg(10_000 + 50, sender="now"))
    assert hook.tracked == 1


def test_slow_mode_state_is_kept_as_long_as_the_slow_mode_gap() -> None:
    hook = RateLimitHook()
    hook.judge(msg(0, slow=120))
    hook.judge(msg(60_000, sender="other", slow=120))  # triggers eviction of idle entries
    assert hook.judge(msg(100_000, slow=120)).reason == "slow_mode"


def test_from_options() -> None:
    hook = from_options({"per_10s": 2, "fail_open": False})
    assert hook.per_10s == 2 and hook.fail_open is False and hook.name == "rate_limit"


def test_fresh_rooms_do_not_reset_a_persons_total_rate() -> None:
    # Issue 12 item 2: a `*` facilitator made a new room for every few messages.
    hook = RateLimitHook(per_10s=5)
    accepted = sum(hook.judge(msg(i * 10, room=f"fresh-{i}")).action is Action.ALLOW for i in range(50))
    assert accepted == 10
    assert hook.per_person_10s == 10  # twice a room's rate: two rooms at once at most
    blocked = hook.judge(msg(600, room="fresh-new"))
    assert blocked.action is Action.BLOCK and blocked.reason == "rate_limited"
    # The person's window slides like a room's.
    assert hook.judge(msg(10_000 + 90, room="fresh-later")).action is Action.ALLOW


def test_a_persons_total_alerts_once_per_burst_and_spares_others() -> None:
    hook = RateLimitHook(per_10s=1, per_person_10s=2)
    assert hook.judge(msg(0, room="a")).action is Action.ALLOW
    assert hook.judge(msg(1, room="b")).action is Action.ALLOW
    first = hook.judge(msg(2, room="c"))
    assert first.action is Action.BLOCK and first.alerts == (Alert("flood", "more than 2 messages in 10 s"),)
    assert hook.judge(msg(3, room="d")).alerts == ()
    assert hook.judge(msg(4, room="c", sender="ben")).action is Action.ALLOW


def test_per_person_option_is_validated() -> None:
    assert from_options({"per_10s": 3}).per_person_10s == 6
    assert from_options({"per_person_10s": 20}).per_person_10s == 20
    with pytest.raises(ValueError, match="per_person_10s"):
        from_options({"per_10s": 5, "per_person_10s": 2})
