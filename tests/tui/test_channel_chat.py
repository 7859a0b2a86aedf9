"""The chat pane against the real server in-process: a reader at the bottom stays there through
resizes, End and Down behave at the end of the history, the newest message is never half under
the input, replies to older messages are shown where they are seen, and an idle focused input
sends the terminal nothing (issue 22)."""

from __future__ import annotations

from app.client import TripClient
from app.demo import frozen
from app.domain.models import Message
from app.tui.app import TripdeckApp
from app.tui.clock import Clock
from app.tui.screens.trip import TripScreen
from app.tui.widgets.channel_chat import ChannelChat, ChatInput, MessageList
from tests.conftest import BASE, new_trip
from tests.tui.conftest import SwitchableTransport, wait_for


async def chat_trip(alice, bob, count: int = 30) -> tuple[str, str, list[str]]:
    """A trip Alice and Bob share whose general channel holds `count` messages, some long."""
    trip = await new_trip(alice)
    await alice.http.post(f"/trips/{trip['_id']}/members", json={"email": bob.email, "role": "editor"})
    channel = (await alice.http.get(f"/trips/{trip['_id']}/channels")).json()["items"][0]["_id"]
    ids = []
    for number in range(count):
        author = alice if number % 2 else bob
        words = " ".join(["long"] * (number % 5) * 6)
        response = await author.http.post(
            f"/trips/{trip['_id']}/channels/{channel}/messages",
            json={"content": f"message {number} {words}".strip()},
        )
        ids.append(response.json()["_id"])
    return trip["_id"], channel, ids


async def open_chat(pilot, app) -> tuple[ChannelChat, MessageList]:
    await wait_for(
        pilot, lambda: isinstance(app.screen, TripScreen) and app.screen.data is not None, what="trip"
    )
    chat = app.screen.query_one(ChannelChat)
    await wait_for(
        pilot, lambda: chat.active_state() is not None and chat.active_state().loaded, what="history"
    )
    await pilot.press("5")
    await pilot.pause()
    return chat, chat.query_one(MessageList)


async def chat_chosen(pilot, app) -> ChannelChat:
    """The chat pane of a trip already on screen (the demo's), chosen with its key and laid out."""
    await pilot.press("5")
    await pilot.pause()
    return app.screen.query_one(ChannelChat)


def at_bottom(messages: MessageList) -> bool:
    return messages.max_scroll_y > 0 and messages.scroll_y == messages.max_scroll_y


def newest_fully_visible(messages: MessageList) -> bool:
    """The last option's lines all lie inside the list's visible rows (its last ones when it is
    taller than the list), and the list counted them at the width they are drawn at."""
    last = messages.option_count - 1
    top = messages._index_to_line[last]
    bottom = top + messages._heights[last]
    height = messages.scrollable_content_region.height
    drawn = len(
        messages._get_option_render(messages.options[last], messages.get_visual_style("option-list--option"))
    )
    return (
        drawn == messages._heights[last]
        and bottom <= messages.scroll_y + height
        and (messages.scroll_y <= top or bottom - top > height)
    )


async def test_a_reader_at_the_bottom_stays_there_through_resizes(server, tui, alice, bob):
    trip_id, _, _ = await chat_trip(alice, bob)
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 24)) as pilot:
        _, messages = await open_chat(pilot, app)
        await wait_for(pilot, lambda: at_bottom(messages), what="the end of the history")
        for size in ((60, 20), (160, 48), (80, 24), (121, 30), (47, 17), (80, 24)):
            await pilot.resize_terminal(*size)
            await wait_for(
                pilot,
                lambda: at_bottom(messages) and newest_fully_visible(messages),
                what=f"the newest message in sight at {size}",
                state=lambda: (messages.scroll_y, messages.max_scroll_y),
            )


async def test_a_reader_scrolled_up_keeps_the_message_read_through_a_resize(server, tui, alice, bob):
    trip_id, _, _ids = await chat_trip(alice, bob)
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 24)) as pilot:
        _, messages = await open_chat(pilot, app)
        await wait_for(pilot, lambda: at_bottom(messages), what="the end of the history")
        messages.focus()
        await pilot.press(*["up"] * 12)
        reading = messages.highlighted_option.id
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        await pilot.pause()
        index = messages.get_option_index(reading)
        top = messages._index_to_line[index]
        assert messages.highlighted_option.id == reading
        assert messages.scroll_y <= top < messages.scroll_y + messages.scrollable_content_region.height
        assert not at_bottom(messages)


async def test_end_goes_to_the_newest_and_down_there_stays(server, tui, alice, bob):
    trip_id, _, ids = await chat_trip(alice, bob)
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 24)) as pilot:
        _, messages = await open_chat(pilot, app)
        await pilot.press("escape")  # from the input to the list
        assert isinstance(app.focused, MessageList)
        await pilot.press("down")
        assert messages.highlighted_option.id == ids[-1]  # the newest: Down does not wrap to the oldest
        assert at_bottom(messages)
        messages.scroll_to(y=0, animate=False, immediate=True)  # the wheel scrolled away from the cursor
        await pilot.press("end")
        await wait_for(
            pilot,
            lambda: at_bottom(messages),
            what="End to scroll to the newest",
            state=lambda: (messages.scroll_y, messages.max_scroll_y),
        )
        await pilot.press("home")
        assert messages.highlighted_option.id == ids[0] or messages.highlighted < 3
        await pilot.press("end")
        await wait_for(
            pilot,
            lambda: at_bottom(messages) and messages.highlighted_option.id == ids[-1],
            what="End to the newest",
        )


async def test_the_newest_message_is_never_half_under_the_input(server, tui, alice, bob):
    trip_id, _, _ = await chat_trip(alice, bob, count=12)
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 24)) as pilot:
        _, messages = await open_chat(pilot, app)
        for width in range(40, 100, 3):
            await pilot.resize_terminal(width, 24)
            await wait_for(
                pilot,
                lambda: newest_fully_visible(messages),
                what=f"the newest message whole at {width}",
                state=lambda: (messages.scroll_y, messages.max_scroll_y, messages.virtual_size),
            )


async def test_an_idle_focused_input_keeps_a_steady_cursor(server, alice, tmp_path):
    """The default app (as `trip ui` makes it): the cursor does not blink, since each blink
    redraws the input line on the terminal, twice a second, for as long as the chat is open."""
    trip = await new_trip(alice)
    client = TripClient(
        api_key=alice.key, base_url=BASE, transport=SwitchableTransport(server.app), max_retries=0
    )
    app = TripdeckApp(
        client=client,
        url=BASE,
        key=alice.key,
        trip_id=trip["_id"],
        clock=Clock.frozen("2026-07-16T10:30", "Europe/London"),
        outbox_path=tmp_path / "outbox.jsonl",
        log_path=tmp_path / "tripdeck.log",
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chat(pilot, app)
        chat_input = app.screen.query_one(ChatInput)
        assert app.focused is chat_input
        shown = set()
        for _ in range(15):
            await pilot.pause(0.1)
            shown.add(chat_input._cursor_visible)
        assert shown == {True}


async def test_a_late_reply_to_an_older_message_is_shown_at_the_bottom_where_it_is_seen(
    server, tui, alice, bob
):
    trip_id, channel, ids = await chat_trip(alice, bob)
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 24)) as pilot:
        chat, messages = await open_chat(pilot, app)
        await wait_for(pilot, lambda: at_bottom(messages), what="the end of the history")
        # Bob answers message 3, far up the history, while Alice reads at the bottom.
        reply = (
            await bob.http.post(
                f"/trips/{trip_id}/channels/{channel}/messages",
                json={"content": "yes to that", "parentId": ids[3]},
            )
        ).json()["_id"]
        await wait_for(
            pilot, lambda: any(m.id == reply for m in chat.active_state().history.items), what="the reply"
        )
        await pilot.pause()
        assert messages.options[-1].id == reply  # after the newest, not under message 3
        assert at_bottom(messages) and newest_fully_visible(messages)
        assert messages.highlighted_option.id == reply
        shown = app.screen.query_one(MessageList).render_lines(
            messages.scrollable_content_region.reset_offset
        )
        text = "\n".join(strip.text for strip in shown)
        assert "reply to Alice: message 3" in text and "Bob        yes to that" in text
        # Enter on it shows the message it answers; End comes back.
        await pilot.press("escape", "enter")
        assert messages.highlighted_option.id == ids[3]
        top = messages._index_to_line[messages.highlighted]
        assert messages.scroll_y <= top < messages.scroll_y + messages.scrollable_content_region.height
        await pilot.press("end")
        assert messages.highlighted_option.id == reply and at_bottom(messages)


async def test_a_reply_to_the_latest_thread_stays_under_its_parent(server, tui, alice, bob):
    trip_id, channel, ids = await chat_trip(alice, bob, count=4)
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 24)) as pilot:
        chat, messages = await open_chat(pilot, app)
        reply = (
            await bob.http.post(
                f"/trips/{trip_id}/channels/{channel}/messages",
                json={"content": "answering the newest", "parentId": ids[-1]},
            )
        ).json()["_id"]
        await wait_for(
            pilot, lambda: any(m.id == reply for m in chat.active_state().history.items), what="the reply"
        )
        assert [option.id for option in messages.options[-2:]] == [ids[-1], reply]
        assert "↳" in str(messages.options[-1].prompt.prefix)  # indented under it, no quote line


def late_reply_app() -> TripdeckApp:
    """The frozen demo trip with a reply, a minute after the newest message, to the first one."""
    data = frozen.trip_data()
    general = data.messages["channel-general"].items
    first, newest = general[0], general[-1]
    maya = next(member for member in data.members if member.name == "Maya Chen")
    general.append(
        Message(
            _id="message-late-reply",
            _creationTime=newest.creation_time + 60_000,
            trip_id=newest.trip_id,
            channel_id=newest.channel_id,
            author_id=maya.user_id,
            author_name=maya.name,
            content="Seats 14A-D on both, all together",
            parent_id=first.id,
        )
    )
    return TripdeckApp(initial=data, clock=frozen.clock(), cursor_blink=False)


def test_a_late_reply_at_the_bottom_of_the_chat(snap_compare):
    assert snap_compare(late_reply_app(), terminal_size=(80, 24), press=["5"])


def repainting(screen) -> set[tuple[str, bool]]:
    """The widgets (and the screen) that asked to be drawn again, and whether with a layout."""
    return {
        (type(widget).__name__, widget._layout_required)
        for widget in [screen, *screen.query("*")]
        if widget._repaint_required or widget._layout_required
    }


async def test_an_arriving_message_repaints_the_message_list_only():
    """On a slow link every repainted row costs: a message that arrives while the chat is read
    at the bottom repaints the message list (whose rows all move up) and its scrollbar, not the
    channel list, the pane's border, or (through a layout) the other panes' scrollbars."""
    app = late_reply_app()
    async with app.run_test(size=(160, 30)) as pilot:
        chat = await chat_chosen(pilot, app)
        messages = chat.query_one(MessageList)
        newest = chat.active_state().history.items[-1]
        kept = messages.options[0]
        screen = app.screen
        for number in range(2):
            await pilot.pause()
            assert not repainting(screen)
            chat.receive(
                [
                    newest.model_copy(
                        update={
                            "id": f"arrived-{number}",
                            "content": f"Tapas at nine? ({number})",
                            "creation_time": newest.creation_time + number + 1,
                        }
                    )
                ]
            )
            assert repainting(screen) == {("MessageList", False)}
            assert messages.options[-1].id == f"arrived-{number}"
            await wait_for(
                pilot,
                lambda: at_bottom(messages),
                what="the newest in sight",
                state=lambda: (messages.scroll_y, messages.max_scroll_y),
            )
        assert messages.options[0] is kept  # the rows already shown were kept, not made again


async def test_messages_that_arrive_while_another_pane_is_shown_are_in_sight_on_return(
    server, tui, alice, bob
):
    trip_id, channel, ids = await chat_trip(alice, bob)
    app, _ = tui(alice.key, trip_id=trip_id)
    async with app.run_test(size=(80, 24)) as pilot:
        chat, messages = await open_chat(pilot, app)
        await wait_for(pilot, lambda: at_bottom(messages), what="the end of the history")
        await pilot.press("escape", "1")  # the legs: at 80x24 the chat is out of sight
        for number in range(3):
            await bob.http.post(
                f"/trips/{trip_id}/channels/{channel}/messages",
                json={"content": f"while you were away {number} " + "words " * 12},
            )
        reply = (
            await bob.http.post(
                f"/trips/{trip_id}/channels/{channel}/messages",
                json={"content": "and yes to your first one", "parentId": ids[1]},
            )
        ).json()["_id"]
        await wait_for(
            pilot, lambda: chat.unread_total == (4, 0), what="four unread", state=lambda: chat.unread_total
        )
        await pilot.resize_terminal(70, 22)
        await pilot.press("5")
        await wait_for(
            pilot,
            lambda: at_bottom(messages) and newest_fully_visible(messages),
            what="the newest in sight",
            state=lambda: (messages.scroll_y, messages.max_scroll_y),
        )
        assert messages.options[-1].id == reply and chat.unread_total == (0, 0)
        assert "read-marker" in [option.id for option in messages.options]


async def test_a_reader_up_the_history_keeps_their_message_through_a_size_where_everything_fits():
    """At 160x48 every message fits, the view's offset is 0 and 0 is also its end: that read as
    the reader having come back to the newest, and back at 80x24 the view jumped there, the
    highlighted message out of sight (then `r` replied to a message nobody could see)."""
    from app.tui.screenshots import demo_app

    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5", "escape")
        messages = app.screen.query_one(MessageList)
        for _ in range(12):
            await pilot.press("up")
        await pilot.pause()
        chosen = messages.highlighted
        assert not messages.following

        def in_sight() -> bool:
            line = messages._index_to_line.get(messages.highlighted)
            return line is not None and messages.scroll_y <= line < messages.scroll_y + messages.size.height

        for size in ((160, 48), (80, 24)):
            await pilot.resize_terminal(*size)
            await wait_for(
                pilot,
                in_sight,
                what=f"the chosen message in sight at {size}",
                state=lambda: (messages.scroll_y, messages.max_scroll_y, messages.following),
            )
            assert messages.highlighted == chosen and not messages.following


async def test_a_narrow_chat_gives_the_messages_the_width_and_says_where_the_unread_are():
    from app.tui.screenshots import demo_app
    from app.tui.widgets.channel_chat import ChannelList

    app = demo_app()
    async with app.run_test(size=(40, 15)) as pilot:
        chat = await chat_chosen(pilot, app)
        assert not chat.query_one(ChannelList).display or chat.query_one(ChannelList).size.width == 0
        assert chat.query_one(MessageList).size.width >= 30
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert chat.query_one(ChannelList).size.width > 0
        chat.states[chat.active].unread = 0
        other = next(state for channel_id, state in chat.states.items() if channel_id != chat.active)
        other.unread = 2
        chat._render_channels()
        assert "2 unread in other channels" in str(chat.border_subtitle)


def footer_keys(app) -> dict[str, str]:
    """What the footer offers now: description -> the key it shows."""
    from textual.widgets._footer import FooterKey

    return {key.description: key.key_display for key in app.screen.query(FooterKey)}


async def test_every_channel_is_reachable_and_switchable_by_keys_from_the_input():
    """Choosing the chat puts the cursor in the input, where `[` and `]` are typed: a key that is
    not a character switches channels there too, and the footer shows it."""
    from app.tui.screenshots import demo_app

    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await chat_chosen(pilot, app)
        chat_input = chat.query_one(ChatInput)
        assert app.focused is chat_input and len(chat.order) > 1
        await wait_for(pilot, lambda: "Next channel" in footer_keys(app), what="the key in the footer")
        visited = [chat.active]
        for _ in chat.order:
            await pilot.press("alt+down")
            visited.append(chat.active)
        assert visited[1] != visited[0] and set(visited) == set(chat.order), visited
        assert visited[-1] == visited[0]  # round the list and back
        await pilot.press("alt+up")
        assert chat.active == chat.order[-1]
        assert chat_input.value == "" and app.focused is chat_input


async def test_the_channel_list_takes_the_keyboard_and_enter_opens_a_channel():
    from app.tui.commands import bindings_of
    from app.tui.screenshots import demo_app
    from app.tui.widgets.channel_chat import ChannelList

    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("5", "escape")  # from the input to the messages
        chat = app.screen.query_one(ChannelChat)
        first = chat.active
        await wait_for(pilot, lambda: "Channels" in footer_keys(app), what="the key in the footer")
        await pilot.press("c")
        channel_list = chat.query_one(ChannelList)
        assert app.focused is channel_list
        await pilot.press("down")
        assert chat.active == first  # moving does not switch: Enter does
        await pilot.press("enter")
        assert chat.active == chat.order[1] and app.focused is chat.query_one(ChatInput)
        await pilot.press("escape", "c", "escape")  # Esc leaves the list for the messages
        assert app.focused is chat.query_one(MessageList)
        ids = {binding.id for _, binding, _ in bindings_of(app.screen)}
        assert {"chat.channels", "chat.previous_channel", "chat.next_channel"} <= ids
        await pilot.resize_terminal(40, 15)  # the list goes, and so does its key
        await wait_for(pilot, lambda: chat.has_class("-narrow"), what="a narrow chat")
        assert not chat.check_action("channels", ())
