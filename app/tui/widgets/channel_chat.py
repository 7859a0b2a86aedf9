"""Pane 5: the trip's group chat. Channels with unread and @mention counts, messages with
author, local time, day separators and a read marker, replies under their parent, older history
a page at a time when the cursor reaches the top, and an input with Up/Down history."""

from __future__ import annotations

import bisect
import datetime as dt
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual import _widget_navigation, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message as TextualMessage
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from app.domain.models import Channel, Me, Message
from app.tui import palette
from app.tui.clock import Clock
from app.tui.data import Paged
from app.tui.formatting import long_date
from app.tui.text import literal, one_line
from app.tui.widgets.pane import KeptRowsOptionList, Pane, RowList
from app.tui.widgets.rows import HangingRow

NEAR_START = 2
"""Rows from the top of the loaded history at which the next older page is requested."""
AUTHOR_WIDTH = 10


def author_colour(author_id: str) -> str:
    return palette.series(zlib.crc32(author_id.encode("utf-8")))


def mention_pattern(name: str) -> re.Pattern[str] | None:
    """`@First` or `@First Last` of the viewer's name, case-insensitive, as a whole word."""
    first = name.split()[0] if name.split() else ""
    if not first:
        return None
    return re.compile(rf"@(?:{re.escape(name)}|{re.escape(first)})(?![\w])", re.IGNORECASE)


@dataclass
class ChannelState:
    channel: Channel
    history: Paged[Message] = field(default_factory=Paged)
    seen: set[str] = field(default_factory=set)
    loaded: bool = False
    loading_older: bool = False
    unread: int = 0
    mentions: int = 0
    read_marker: str | None = None
    """Id of the first message that arrived while the channel was out of sight."""

    def add(self, message: Message) -> bool:
        """Keep `message` in its place in time: the live feed and our own sends (the outbox's
        answers) may hand over a later message before an earlier one."""
        if message.id in self.seen:
            return False
        self.seen.add(message.id)
        items = self.history.items
        if items and _chronological(message) < _chronological(items[-1]):
            bisect.insort(items, message, key=_chronological)
        else:
            items.append(message)
        return True


class ChannelList(RowList):
    """Channel names with their unread (and @mention) counts. `c` in the chat brings the
    keyboard here (Tab moves between panes, not into one): Up and Down move, Enter opens."""

    BINDINGS = [Binding("escape", "leave", "Back to messages", id="chat.leave_channels")]

    class Left(TextualMessage):
        """Esc: the keyboard goes back to the messages."""

    def action_leave(self) -> None:
        self.post_message(self.Left())


class MessageList(KeptRowsOptionList):
    """The active channel's messages; moving to the top asks for older history.

    A reader at the newest message is `following`: new messages, resizes and rows that wrap
    anew keep the newest in sight. Scrolling or moving up stops following; End, or Down or the
    scroll wheel back to the bottom, follows again. The cursor stops at both ends (no wrap)."""

    BINDINGS = [
        Binding("r", "reply", "Reply", id="chat.reply"),
        Binding("i", "write", "Write", id="chat.write"),
    ]

    @dataclass
    class NearStart(TextualMessage):
        message_list: MessageList

    @dataclass
    class ReplyChosen(TextualMessage):
        message_id: str

    @dataclass
    class WriteWanted(TextualMessage):
        pass

    settled = False
    """False until the first page has been scrolled to its end; before that, top is not 'near start'."""
    following = True
    """The view is at the bottom: it stays there whatever changes its rows or its size."""
    _replacing = False
    _measuring = False

    def refresh(
        self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> MessageList:
        # The pane sets this list's size (1fr), not its rows: rows that come change what it
        # scrolls over (its virtual size, a reactive that asks for a layout of the whole screen,
        # which repaints every pane's scrollbar on the terminal), not its place. A scrollbar
        # that comes or goes still asks for its layout.
        return super().refresh(
            *regions, repaint=repaint, layout=layout and not self._measuring, recompose=recompose
        )

    def set_options(self, options) -> MessageList:
        # OptionList scrolls to the top before adding the rows again: not a reader's move.
        self._replacing = True
        try:
            return super().set_options(options)
        finally:
            self._replacing = False

    def _update_lines(self) -> None:
        self._measuring = True
        try:
            super()._update_lines()
        finally:
            self._measuring = False
        if self.following and self.scroll_y != self.max_scroll_y and self._line_cache.lines:
            # Here, as the rows are measured for the width they are drawn at (a resize, a
            # scrollbar that came or went, a message that arrived), not a frame later.
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def on_resize(self) -> None:
        if not self.following:  # a reader further up keeps the message they were on in sight
            self.call_after_refresh(self.scroll_to_highlight)

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if self.settled and highlighted is not None and highlighted < NEAR_START + 2:
            self.post_message(self.NearStart(self))

    _seen_max_scroll: float = 0.0
    """The scroll range when the view last moved: a move that comes with a new range is the view's
    size or rows changing (a resize clamps the offset; at a size where every row fits the offset
    is 0 and 0 is the end), not a reader's, and leaves `following` as it was."""

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._replacing or not self._line_cache.lines:
            return
        if self.max_scroll_y != self._seen_max_scroll:
            self._seen_max_scroll = self.max_scroll_y
            return
        self.following = new >= self.max_scroll_y
        if self.settled and new <= 0 and old > 0:
            self.post_message(self.NearStart(self))

    def action_cursor_up(self) -> None:
        if self.highlighted is not None and self.highlighted <= NEAR_START:
            self.post_message(self.NearStart(self))
        self._move(-1)

    def action_cursor_down(self) -> None:
        last = _widget_navigation.find_last_enabled(self.options)
        if self.highlighted is not None and self.highlighted == last:
            self.action_last()  # at the newest: show all of it, and follow
            return
        self._move(1)

    def _move(self, direction: Literal[-1, 1]) -> None:
        moved = _widget_navigation.find_next_enabled_no_wrap(self.options, self.highlighted, direction)
        if moved is not None:
            self.highlighted = moved

    def action_last(self) -> None:
        super().action_last()
        self.following = True
        self.scroll_end(animate=False, immediate=True)

    def action_reply(self) -> None:
        option = self.highlighted_option
        if option is not None and option.id and not option.disabled:
            self.post_message(self.ReplyChosen(option.id))

    def action_write(self) -> None:
        self.post_message(self.WriteWanted())


class ReplyBar(Static):
    """Shows which message the next send replies to."""


class ChatInput(Input):
    """The message input: Enter sends, Up/Down walk what you sent before, Escape leaves."""

    BINDINGS = [
        Binding("up", "history_previous", "Earlier input", show=False, id="chat.history_previous"),
        Binding("down", "history_next", "Later input", show=False, id="chat.history_next"),
        Binding("escape", "leave", "Leave input", id="chat.leave_input"),
    ]

    @dataclass
    class Left(TextualMessage):
        """Escape was pressed: give the keyboard back to the single-key bindings."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history: list[str] = []
        self._position: int | None = None
        self._draft = ""

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._position = None
        self._draft = ""

    def action_history_previous(self) -> None:
        if not self.history:
            return
        if self._position is None:
            self._draft = self.value
            self._position = len(self.history)
        self._position = max(self._position - 1, 0)
        self.value = self.history[self._position]
        self.cursor_position = len(self.value)

    def action_history_next(self) -> None:
        if self._position is None:
            return
        self._position += 1
        if self._position >= len(self.history):
            self._position = None
            self.value = self._draft
        else:
            self.value = self.history[self._position]
        self.cursor_position = len(self.value)

    def action_leave(self) -> None:
        self.post_message(self.Left())


class ChannelChat(Pane):
    number = 5
    title = "Chat"
    COMPONENT_CLASSES = {
        "channel-chat--unread",
        "channel-chat--day",
        "channel-chat--mine",
        "channel-chat--mention",
    }

    BINDINGS = [
        # While typing, `[` and `]` are text (the input takes them first): Alt+Up and Alt+Down
        # switch there, and the footer shows whichever of the keys works where the cursor is.
        Binding("left_square_bracket,alt+up", "previous_channel", "Prev channel", id="chat.previous_channel"),
        Binding("right_square_bracket,alt+down", "next_channel", "Next channel", id="chat.next_channel"),
        Binding("c", "channels", "Channels", id="chat.channels"),
    ]

    @dataclass
    class MessageSent(TextualMessage):
        channel_id: str
        content: str
        parent_id: str | None = None

    @dataclass
    class OlderWanted(TextualMessage):
        channel_id: str
        cursor: str

    @dataclass
    class ChannelOpened(TextualMessage):
        """A channel whose history is not loaded yet was opened."""

        channel_id: str

    @dataclass
    class UnreadChanged(TextualMessage):
        unread: int
        mentions: int

    def __init__(
        self, *, id: str | None = "chat", clock: Clock | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.clock = clock or Clock()
        self.me: Me | None = None
        self.mention: re.Pattern[str] | None = None
        self.states: dict[str, ChannelState] = {}
        self.order: list[str] = []
        self.active: str | None = None
        self.in_sight = False
        self.reply_to: Message | None = None
        self._channels_shown: tuple = ()
        self._subtitle_shown: object = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield ChannelList(id="channel-list")
            with Vertical(id="conversation"):
                yield MessageList(id="message-list")
                yield ReplyBar(id="reply-bar")
                yield ChatInput(
                    id="chat-input", placeholder="Message… (Enter sends, Esc leaves)", max_length=4000
                )

    NARROW = 48
    """Below this width the channel list goes (`[` and `]` still switch; the border names the
    channel): at 40 columns it left the messages a strip four letters wide."""

    def on_resize(self) -> None:
        narrow = self.size.width < self.NARROW
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            self.refresh_bindings()  # `c` goes to the list, which a narrow chat does not show

    def focus_target(self) -> Widget:
        chat_input = self.query_one(ChatInput)
        return chat_input if not chat_input.disabled else self.query_one(MessageList)

    # --- data in -------------------------------------------------------------------------

    def show_channels(self, channels: list[Channel], me: Me) -> None:
        self.me = me
        self.mention = mention_pattern(me.name)
        for channel in channels:
            if channel.id in self.states:
                self.states[channel.id].channel = channel
            else:
                self.states[channel.id] = ChannelState(channel)
        self.order = [channel.id for channel in channels]
        if self.active not in self.states and self.order:
            self.active = self.order[0]
        self._render_channels()
        self._render_messages()

    def show_not_shared(self) -> None:
        """A read-only view through a share link: the chat is not part of what a link shows."""
        self.query_one(ChannelList).display = False  # no channels to list: the note gets the width
        self.refresh_bindings()
        self.query_one(MessageList).set_options(
            [
                Option(
                    Text(
                        "  The group chat is not shared: members read it with their own key.",
                        style=palette.MUTED,
                    ),
                    id="not-shared",
                    disabled=True,
                )
            ]
        )
        chat_input = self.query_one(ChatInput)
        chat_input.disabled = True
        chat_input.placeholder = "Read-only: a share link cannot write"

    def show_history(self, channel_id: str, page: Paged[Message]) -> None:
        """The newest page of a channel (oldest first), replacing nothing already received."""
        state = self.states.get(channel_id)
        if state is None:
            return
        fresh = [message for message in page.items if message.id not in state.seen]
        state.seen.update(message.id for message in fresh)
        state.history.items = sorted(fresh + state.history.items, key=_chronological)
        if not state.loaded:  # a reload keeps the place older pages had reached
            state.history.next_cursor = page.next_cursor
        state.loaded = True
        if channel_id == self.active:
            self._render_messages(to_end=True)

    def show_older(self, channel_id: str, page: Paged[Message]) -> None:
        state = self.states.get(channel_id)
        if state is None:
            return
        state.loading_older = False
        older = [message for message in page.items if message.id not in state.seen]
        state.seen.update(message.id for message in older)
        state.history.items = sorted(older + state.history.items, key=_chronological)
        state.history.next_cursor = page.next_cursor
        if channel_id == self.active:
            self._render_messages()

    def send_failed(self, content: str) -> None:
        """Put a message that could not be sent back in the input, unless something new is there."""
        chat_input = self.query_one(ChatInput)
        if not chat_input.value:
            chat_input.value = content
            chat_input.cursor_position = len(content)

    def older_failed(self, channel_id: str) -> None:
        if channel_id in self.states:
            self.states[channel_id].loading_older = False

    def receive(self, messages: list[Message]) -> None:
        """Messages from the live feed or our own sends (duplicates are ignored)."""
        touched_active = False
        for message in messages:
            state = self.states.get(message.channel_id)
            if state is None or not state.add(message):
                continue
            mine = self.me is not None and message.author_id == self.me.id
            if message.channel_id == self.active:
                touched_active = True
            if mine:
                continue
            watching = message.channel_id == self.active and self.in_sight
            if not watching:
                state.unread += 1
                if self.mentions_me(message):
                    state.mentions += 1
                if state.read_marker is None:
                    state.read_marker = message.id
        if touched_active:
            self._render_messages(follow=True)
        self._render_channels()

    def set_in_sight(self, in_sight: bool) -> None:
        """The screen says whether the chat is visible; what is visible counts as read."""
        self.in_sight = in_sight
        if in_sight and self.active in self.states:
            state = self.states[self.active]
            if state.unread or state.mentions:
                state.unread = state.mentions = 0
                self._render_channels()

    # --- queries -------------------------------------------------------------------------

    def knows(self, channel_id: str) -> bool:
        return channel_id in self.states

    def mentions_me(self, message: Message) -> bool:
        return bool(self.mention and self.mention.search(message.content))

    @property
    def unread_total(self) -> tuple[int, int]:
        return (sum(s.unread for s in self.states.values()), sum(s.mentions for s in self.states.values()))

    def active_state(self) -> ChannelState | None:
        return self.states.get(self.active) if self.active else None

    # --- actions -------------------------------------------------------------------------

    def open_channel(self, channel_id: str) -> None:
        if channel_id not in self.states or channel_id == self.active:
            return
        if self.active in self.states:
            self.states[self.active].read_marker = None
        self.active = channel_id
        self.reply_to = None
        self._render_reply_bar()
        state = self.states[channel_id]
        if self.in_sight:
            state.unread = state.mentions = 0
        self._render_channels()
        self._render_messages(to_end=True)
        if not state.loaded:
            self.post_message(self.ChannelOpened(channel_id))

    def action_previous_channel(self) -> None:
        self._step_channel(-1)

    def action_next_channel(self) -> None:
        self._step_channel(1)

    def action_channels(self) -> None:
        self.query_one(ChannelList).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "channels":  # a narrow chat, or a shared view, has no list to go to
            channel_list = self.query_one(ChannelList)
            return not self.has_class("-narrow") and channel_list.display and not channel_list.has_focus
        return True

    @on(ChannelList.Left)
    def _left_channels(self, event: ChannelList.Left) -> None:
        event.stop()
        self.query_one(MessageList).focus()

    def _step_channel(self, step: int) -> None:
        if not self.order:
            return
        index = self.order.index(self.active) if self.active in self.order else 0
        self.open_channel(self.order[(index + step) % len(self.order)])

    @on(OptionList.OptionSelected, "ChannelList")
    def _channel_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.open_channel(event.option.id)
            self.query_one(ChatInput).focus()

    @on(OptionList.OptionSelected, "MessageList")
    def _message_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a reply shows the message it answers (far up when the reply came late)."""
        event.stop()
        state = self.active_state()
        message = next((m for m in state.history.items if m.id == event.option.id), None) if state else None
        if message is None or not message.parent_id:
            return
        message_list = self.query_one(MessageList)
        try:
            message_list.highlighted = message_list.get_option_index(message.parent_id)
        except OptionDoesNotExist:
            self.notify("The message this replies to is further back: scroll up to load it.", timeout=4)

    @on(Input.Submitted, "ChatInput")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        content = event.value
        if not content.strip() or self.active is None:
            return
        chat_input = self.query_one(ChatInput)
        chat_input.remember(content)
        chat_input.value = ""
        parent = self.reply_to.id if self.reply_to else None
        self.reply_to = None
        self._render_reply_bar()
        self.post_message(self.MessageSent(self.active, content, parent))

    @on(ChatInput.Left)
    def _left_input(self, event: ChatInput.Left) -> None:
        event.stop()
        if self.reply_to is not None:
            self.reply_to = None
            self._render_reply_bar()
            return
        self.query_one(MessageList).focus()

    @on(MessageList.ReplyChosen)
    def _reply_chosen(self, event: MessageList.ReplyChosen) -> None:
        event.stop()
        state = self.active_state()
        if state is None:
            return
        for message in state.history.items:
            if message.id == event.message_id:
                self.reply_to = message
                self._render_reply_bar()
                self.query_one(ChatInput).focus()
                return

    @on(MessageList.WriteWanted)
    def _write(self, event: MessageList.WriteWanted) -> None:
        event.stop()
        self.query_one(ChatInput).focus()

    @on(MessageList.NearStart)
    def _near_start(self, event: MessageList.NearStart) -> None:
        event.stop()
        state = self.active_state()
        if state is None or state.loading_older or state.history.next_cursor is None:
            return
        state.loading_older = True
        self.post_message(self.OlderWanted(state.channel.id, state.history.next_cursor))

    # --- rendering -----------------------------------------------------------------------

    def _render_channels(self) -> None:
        rows = []
        for channel_id in self.order:
            state = self.states[channel_id]
            row = Text(no_wrap=True, overflow="ellipsis")
            active = channel_id == self.active
            row.append("# ", style=palette.MUTED)
            row.append_text(one_line(state.channel.name, "bold" if active or state.unread else ""))
            if state.unread:
                row.append(f" {state.unread}", style=self.part("channel-chat--unread"))
            if state.mentions:
                row.append(f" @{state.mentions}", style=self.part("channel-chat--mention"))
            rows.append(Option(row, id=channel_id))
        channel_list = self.query_one(ChannelList)
        # Each message that arrives comes here: what did not change is not drawn again (an
        # update of the pane's border redraws the whole pane on the terminal).
        shown = tuple((row.id, _text_key(row.prompt)) for row in rows)
        if shown != self._channels_shown:
            self._channels_shown = shown
            channel_list.set_rows(rows, keep=False)
        if self.active in self.order:
            channel_list.highlighted = self.order.index(self.active)
        unread, mentions = self.unread_total
        subtitle = Text()
        if self.active in self.states:
            subtitle.append("# ")
            subtitle.append_text(one_line(self.states[self.active].channel.name, width=24))
        if unread:
            here = self.states[self.active].unread if self.active in self.states else 0
            where = " in other channels" if not here else ""  # the border is this channel's
            subtitle.append(f" · {unread} unread{where}", style=self.part("channel-chat--unread"))
        if mentions:
            subtitle.append(f" · @{mentions}", style=self.part("channel-chat--mention"))
        if _text_key(subtitle) != self._subtitle_shown:
            self._subtitle_shown = _text_key(subtitle)
            self.border_subtitle = subtitle
        self.post_message(self.UnreadChanged(unread, mentions))

    def _render_reply_bar(self) -> None:
        bar = self.query_one(ReplyBar)
        if self.reply_to is None:
            bar.display = False
            return
        text = Text("↳ replying to ", style=palette.MUTED, no_wrap=True, overflow="ellipsis")
        text.append_text(one_line(self.reply_to.author_name, "bold", width=AUTHOR_WIDTH * 2))
        text.append(": ")
        text.append_text(one_line(self.reply_to.content, width=60))
        text.append("  (Esc cancels)", style=palette.MUTED)
        bar.update(text)
        bar.display = True

    def _render_messages(self, *, to_end: bool = False, follow: bool = False) -> None:
        message_list = self.query_one(MessageList)
        state = self.active_state()
        if state is None:
            message_list.set_options([])
            return
        at_end = message_list.highlighted is None or message_list.highlighted >= message_list.option_count - 1
        previous = message_list.highlighted_option.id if message_list.highlighted_option else None
        # Where the highlighted row sat in the view, to put it back there (older rows above it
        # may have been added, or a reply below it).
        offset = None
        highlighted = message_list.highlighted
        if previous is not None and highlighted is not None and message_list._line_cache.lines:
            offset = message_list._index_to_line.get(highlighted, 0) - message_list.scroll_y
        following = message_list.following
        rows: Sequence[Option] = list(self._rows(state))
        shown = [option.id for option in message_list.options]
        if shown and len(rows) > len(shown) and [row.id for row in rows[: len(shown)]] == shown:
            # Messages arrived after the last one shown: add their rows and keep the others
            # (and their drawn lines); setting all rows again would also scroll to the top first.
            message_list.add_options(rows[len(shown) :])
            rows = message_list.options
        else:
            message_list.set_options(rows)
        last = _last_enabled(rows)
        if to_end or (follow and at_end) or previous is None:
            message_list.following = True
            message_list.highlighted = last
            message_list.settled = False
            self.call_after_refresh(self._settle, message_list)
            return
        message_list.following = following
        try:
            index = message_list.get_option_index(previous)
        except OptionDoesNotExist:
            message_list.highlighted = last
            return
        message_list.highlighted = index
        if not following and offset is not None and message_list._line_cache.lines:
            message_list.scroll_to(
                y=message_list._index_to_line[index] - offset, animate=False, immediate=True
            )
            message_list.following = False

    @staticmethod
    def _settle(message_list: MessageList) -> None:
        if message_list.following:
            message_list.scroll_end(animate=False, immediate=True)
        message_list.settled = True

    def _rows(self, state: ChannelState):
        messages = state.history.items
        by_id = {message.id: message for message in messages}
        # A reply sits under its parent while that thread is the latest one; once another
        # message has started a thread since, it is shown where it arrived, at the bottom where
        # the reader is, with a line saying what it answers (Enter there shows the parent).
        replies: dict[str, list[Message]] = {}
        roots: list[Message] = []
        thread_of: dict[str, str] = {}
        for message in messages:
            parent_id = message.parent_id
            if parent_id and parent_id != message.id and roots and thread_of.get(parent_id) == roots[-1].id:
                replies.setdefault(parent_id, []).append(message)
                thread_of[message.id] = roots[-1].id
            else:
                roots.append(message)
                thread_of[message.id] = message.id
        if state.history.next_cursor is not None:
            yield Option(
                Text("  ↑ older messages load as you scroll up", style=palette.MUTED),
                id="older",
                disabled=True,
            )
        elif messages:
            yield Option(Text("  — start of the channel —", style=palette.MUTED), id="start", disabled=True)
        else:
            yield Option(
                Text("  No messages yet. Say hello!", style=palette.MUTED), id="empty", disabled=True
            )
        last_day: dt.date | None = None
        emitted: set[str] = set()
        for root in roots:
            day = self.clock.from_ms(root.creation_time).date()
            if day != last_day:
                last_day = day
                yield Option(
                    _separator(
                        long_date(day) if day != self.clock.today() else f"Today · {long_date(day)}",
                        self.part("channel-chat--day"),
                    ),
                    id=f"day:{day.isoformat()}:{root.id}",
                    disabled=True,
                )
            stack: list[tuple[Message, int]] = [(root, 0)]
            while stack:
                message, depth = stack.pop()
                if message.id in emitted:
                    continue
                emitted.add(message.id)
                if message.id == state.read_marker:
                    yield Option(
                        _separator("new", Style.parse(palette.ALERT)), id="read-marker", disabled=True
                    )
                parent = by_id.get(message.parent_id or "") if depth == 0 else None
                if parent is not None and parent.id != message.id:
                    yield Option(
                        Group(_replying_to(parent), self._message_row(message, 0, orphan=False)),
                        id=message.id,
                    )
                else:
                    yield Option(
                        self._message_row(message, depth, orphan=depth == 0 and bool(message.parent_id)),
                        id=message.id,
                    )
                for child in reversed(replies.get(message.id, [])):
                    stack.append((child, min(depth + 1, 4)))

    def _message_row(self, message: Message, depth: int, *, orphan: bool) -> HangingRow:
        mine = self.me is not None and message.author_id == self.me.id
        mentioned = not mine and self.mentions_me(message)
        stamp = self.clock.from_ms(message.creation_time)
        prefix = Text(no_wrap=True)
        if depth:
            prefix.append(" " * (2 * depth - 2) + "↳ ", style=palette.MUTED)
        prefix.append(f"{stamp:%H:%M} ", style=palette.MUTED)
        prefix.append_text(
            one_line(
                message.author_name,
                self.part("channel-chat--mine") if mine else f"bold {author_colour(message.author_id)}",
                width=AUTHOR_WIDTH,
            )
        )
        prefix.pad_right(2 * depth + 6 + AUTHOR_WIDTH + 1 - prefix.cell_len)
        content = literal(message.content)
        if orphan:
            content = Text("↳ ", style=palette.MUTED) + content
        return HangingRow(
            prefix,
            content,
            prefix_width=2 * depth + 6 + AUTHOR_WIDTH + 1,
            background=palette.MENTION_BACKGROUND if mentioned else None,
        )


def _replying_to(parent: Message) -> Text:
    """The line above a reply shown away from its thread: whom and what it answers."""
    line = Text("↳ reply to ", style=palette.MUTED, no_wrap=True, overflow="ellipsis")
    line.append_text(one_line(parent.author_name, f"bold {palette.MUTED}", width=AUTHOR_WIDTH * 2))
    line.append(": ", style=palette.MUTED)
    line.append_text(one_line(parent.content, palette.MUTED, width=60))
    return line


def _text_key(text: object) -> object:
    """What a Text shows (its characters and styles), to compare two of them."""
    return (text.plain, tuple(text.spans), str(text.style)) if isinstance(text, Text) else text


def _chronological(message: Message) -> int:
    """A message's place in time. Messages of one millisecond keep the order they came in (the
    sorts are stable, insort goes after equals): the service's order, which the random ids are not."""
    return message.creation_time


def _separator(label: str, colour: Style) -> Text:
    return Text.assemble(
        ("──── ", colour), (label, colour + Style(bold=True)), (" ────", colour), no_wrap=True
    )


def _last_enabled(rows: Sequence[Option]) -> int | None:
    for index in range(len(rows) - 1, -1, -1):
        if not rows[index].disabled:
            return index
    return None
