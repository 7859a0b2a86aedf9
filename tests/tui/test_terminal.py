"""`app.tui.terminal.compact` draws the same screen as what Textual writes, in fewer bytes: the
frames the real app writes (every pane, a message arriving, a resize, a dialog) go through a
terminal emulator (pyte) as written and as compacted, and the two screens must match cell by
cell, characters and styles."""

from __future__ import annotations

import pyte
import pytest

from app.tui.terminal import Style, compact
from app.tui.widgets.channel_chat import ChannelChat
from tests.tui.test_channel_chat import late_reply_app


def frames_of(app) -> list[str]:
    """What the app hands its driver to write, frame by frame (the headless driver writes nothing)."""
    frames: list[str] = []

    def display(screen, renderable) -> None:
        if renderable is not None:
            frames.append(renderable.render_segments(app.console))

    app._display = display
    return frames


class Terminal:
    """A terminal emulator of `size` fed what a program writes."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.screen = pyte.Screen(*size)
        self.stream = pyte.Stream(self.screen)

    def feed(self, data: str) -> Terminal:
        self.stream.feed(data)
        return self

    def cells(self) -> list[list[tuple]]:
        return [
            [
                (
                    cell.data,
                    cell.fg,
                    cell.bg,
                    cell.bold,
                    cell.italics,
                    cell.underscore,
                    cell.strikethrough,
                    cell.reverse,
                )
                for cell in (self.screen.buffer[row][x] for x in range(self.screen.columns))
            ]
            for row in range(self.screen.lines)
        ]


def screen_after(frames: list[str], size: tuple[int, int]) -> list[list[tuple]]:
    terminal = Terminal(size)
    for frame in frames:
        terminal.feed(frame)
    return terminal.cells()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_compacted_frames_draw_the_same_screen(size):
    app = late_reply_app()
    frames = frames_of(app)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for keys in (
            ["1"],
            ["2", "down", "down"],
            ["3"],
            ["4", "down"],
            ["5"],
            ["escape", "up", "up", "enter"],
            ["end"],
            ["question_mark"],
            ["escape"],
        ):
            await pilot.press(*keys)
            await pilot.pause()
        chat = app.screen.query_one(ChannelChat)
        newest = chat.active_state().history.items[-1]
        for number in range(3):
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
            await pilot.pause()
        await pilot.resize_terminal(size[0] - 13, size[1] - 3)
        await pilot.pause()
    assert len(frames) > 10
    written = sum(len(frame.encode()) for frame in frames)
    compacted = [compact(frame) for frame in frames]
    assert sum(len(frame.encode()) for frame in compacted) < written * 0.75
    as_written, as_compacted = Terminal(size), Terminal(size)
    for number, (frame, shorter) in enumerate(
        zip(frames, compacted, strict=False)
    ):  # after each frame, not only the last
        assert as_compacted.feed(shorter).cells() == as_written.feed(frame).cells(), f"frame {number}"


def test_style_changes_are_sent_as_the_difference():
    shown = Style().apply("38;5;244;48;5;233")
    assert shown.change_to(shown.apply("1;38;5;75")) == "\x1b[1;38;5;75m"
    assert shown.apply("1;2").change_to(shown.apply("2")) == "\x1b[22;2m"  # 22 ends bold and faint alike
    assert shown.change_to(Style().apply("48;5;233")) == "\x1b[39m"
    assert Style().apply("38:2:1:2:3") is None  # not modelled: sent as written


def test_text_without_escapes_and_unknown_sequences_pass_through():
    assert compact("plain") == "plain"
    frame = "\x1b[1;1H\x1b[31mred\x1b[0m\x1b[5;1H\x1b]52;c;aGk=\x07\x1b[32mgreen\x1b[0m"
    assert screen_after([compact(frame)], (20, 6)) == screen_after([frame], (20, 6))
