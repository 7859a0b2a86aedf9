"""1,000 hostile messages (Rich markup, ANSI/OSC escapes, control characters, 4,000-character
lines, right-to-left text, emoji) go through the real server into the chat, which pages back
through all of them: nothing crashes, nothing reaches the terminal as a control sequence, and
every message is shown literally."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.tui.screens.trip import TripScreen
from app.tui.text import clean, is_safe
from app.tui.widgets.channel_chat import ChannelChat, MessageList
from tests.conftest import new_trip
from tests.tui.conftest import wait_for

PIECES = st.one_of(
    st.sampled_from(
        [
            "[bold]",
            "[/]",
            "[link=https://evil.example]click[/link]",
            "[red on white]",
            "\\[x]",
            "[@click=app.quit]q[/]",
        ]
    ),
    st.sampled_from(
        [
            "\x1b[31m",
            "\x1b[2J",
            "\x1b]8;;https://evil.example\x07",
            "\x1b]0;title\x1b\\",
            "\x9b1m",
            "\x1bc",
            "\x1b[?1049h",
        ]
    ),
    st.text(
        st.characters(codec="utf-8", categories=["Cc"], exclude_characters="\x00"), min_size=1, max_size=5
    ),
    st.sampled_from(["مرحبا بالعالم", "שלום", "\u202eevil\u202c", "\u2066isolate\u2069", "\u200f"]),
    st.sampled_from(["🎉", "👩‍👩‍👧‍👦", "🇵🇹", "e\u0301", "Z̷̢̛a̶l̵g̷o̴", "\ufeff", "\u200b"]),
    st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
)
LONG_LINE = st.integers(min_value=0, max_value=25).map(lambda n: ("w" * 3990 + f"{n:04d}")[:4000])
MESSAGE = st.one_of(
    st.lists(PIECES, min_size=1, max_size=8).map("".join).filter(lambda s: s.strip() and len(s) <= 4000),
    LONG_LINE,
)


def visible(text: str) -> str:
    """The characters that must show, whitespace and zero-width aside (wrapping moves those)."""
    return "".join(
        ch for ch in text if not ch.isspace() and ch not in "\u200b\u200f\ufeff\u202e\u202c\u2066\u2069\u034f"
    )


@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(contents=st.lists(MESSAGE, min_size=1000, max_size=1000))
def test_a_thousand_hostile_messages(contents, server_factory):
    asyncio.run(run(contents, server_factory))


async def run(contents: list[str], server_factory) -> None:
    async with server_factory() as (_server, alice, tui):
        trip = await new_trip(alice)
        channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
        for start in range(0, len(contents), 50):
            responses = await asyncio.gather(
                *(
                    alice.http.post(
                        f"/trips/{trip['_id']}/channels/{channel}/messages", json={"content": content}
                    )
                    for content in contents[start : start + 50]
                )
            )
            assert all(r.status_code == 201 for r in responses), [
                r.text for r in responses if r.status_code != 201
            ][:1]
        app, _ = tui(alice.key, trip_id=trip["_id"])
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(
                pilot, lambda: isinstance(app.screen, TripScreen) and app.screen.data is not None, what="trip"
            )
            await pilot.press("5", "escape")
            chat = app.screen.query_one(ChannelChat)
            message_list = app.screen.query_one(MessageList)
            await wait_for(
                pilot, lambda: chat.active_state() and chat.active_state().loaded, what="newest page"
            )
            assert len(chat.active_state().history.items) == 50  # one page, not the whole history
            # Page up through every message; older pages load as the cursor nears the top.
            for _ in range(len(contents) * 3):
                state = chat.active_state()
                if state.history.next_cursor is None and message_list.highlighted == _first_message(
                    message_list
                ):
                    break
                await pilot.press("pageup")
                for y in range(message_list.size.height):
                    assert is_safe(message_list.render_line(y).text)
                if state.loading_older:
                    await wait_for(pilot, lambda: not chat.active_state().loading_older, what="older page")
            state = chat.active_state()
            assert len(state.history.items) == len(contents)
            assert sorted(m.content for m in state.history.items) == sorted(contents)
            # Each message, as the list draws it, shows exactly its text.
            style = message_list.get_visual_style("option-list--option")
            for option in message_list.options:
                if option.disabled:
                    continue
                message = next(m for m in state.history.items if m.id == option.id)
                drawn = "".join(strip.text for strip in message_list._get_option_render(option, style))
                assert is_safe(drawn)
                assert visible(clean(message.content)) in visible(drawn)


def _first_message(message_list: MessageList) -> int | None:
    for index, option in enumerate(message_list.options):
        if not option.disabled:
            return index
    return None
