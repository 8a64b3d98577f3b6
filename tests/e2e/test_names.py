"""A look-alike name cannot pass for the facilitator (issue 12, item 9), as a member sees it."""

from __future__ import annotations

from playwright.async_api import expect

from .conftest import Session, shoot


async def test_staff_lines_carry_a_badge_and_a_look_alike_name_is_plain(server: str, session: Session) -> None:
    room = "names-circle"
    fay = await session.open(server, room, "facilitator", "Fay")
    # "Fay" with a zero-width space: the server folds it to plain "Fay", with no badge.
    impostor = await session.open(server, room, "member", "Fay\u200b", sub="impostor")
    for locale, label in (("en-US", "facilitator"), ("hi-IN", "फ़ैसिलिटेटर"), ("pa-IN", "ਫੈਸਿਲੀਟੇਟਰ")):
        member = await session.open(server, room, "member", "Asha", phone=True, locale=locale, sub="asha",
                                    wait_for_room=False)
        await expect(member.locator("#chat-log")).to_be_visible()
        break_ = locale.split("-")[0]
        await fay.get_by_label("Message").fill(f"Welcome, everyone ({break_})")
        await fay.get_by_label("Message").press("Enter")
        await impostor.get_by_label("Message").fill(f"Send me your number ({break_})")
        await impostor.get_by_label("Message").press("Enter")
        lines = member.locator("#chat-log article.msg")
        real = lines.filter(has_text=f"Welcome, everyone ({break_})")
        fake = lines.filter(has_text=f"Send me your number ({break_})")
        await expect(real.locator(".badge")).to_have_text(label)
        await expect(fake.locator(".author")).to_have_text("Fay")
        await expect(fake.locator(".badge")).to_have_count(0)
        await shoot(member, f"names-badge-{break_}")
        await member.context.close()
