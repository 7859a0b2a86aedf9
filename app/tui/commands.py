"""The command palette (ctrl+p) lists every action that a key can run on the current screen:
the app's, the screen's and every pane's, each with the keys that run it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Input


def bindings_of(screen: DOMNode) -> Iterator[tuple[DOMNode, Binding, str]]:
    """(owner, binding, keys) for the app, the screen and every widget on it, each id once."""
    seen: set[str] = set()
    app = screen.app
    nodes: list[DOMNode] = [app, screen, *screen.walk_children()]
    for node in nodes:
        for bindings in node._bindings.key_to_bindings.values():
            for binding in bindings:
                # Ours all have ids; Textual's own (copy, the palette itself) are left out.
                name = binding.id
                if not name or name in seen or not binding.description:
                    continue
                seen.add(name)
                keys = ", ".join(app.get_key_display(b) for b in _all_keys(node, binding))
                yield node, binding, keys


def where(node: DOMNode) -> str:
    """Where a node's keys work, in words for the help screen: "Everywhere", "Trip screen",
    "2 Map pane", "5 Chat pane, while typing" (not the class names the code uses)."""
    from app.tui.widgets.pane import Pane

    if node is node.app:
        return "Everywhere"
    if isinstance(node, Screen):
        return _words(type(node).__name__)
    pane = next((ancestor for ancestor in [node, *node.ancestors] if isinstance(ancestor, Pane)), None)
    if pane is None:
        return _words(type(node).__name__)
    name = f"{pane.number} {pane.title} pane"
    if pane is node:
        return name
    return (
        f"{name}, while typing"
        if isinstance(node, Input)
        else f"{name}, {_words(type(node).__name__).lower()}"
    )


def _words(class_name: str) -> str:
    """ "TripScreen" -> "Trip screen"."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name).capitalize()


def _all_keys(node: DOMNode, binding: Binding) -> list[Binding]:
    return [
        candidate
        for bindings in node._bindings.key_to_bindings.values()
        for candidate in bindings
        if candidate.action == binding.action and candidate.id == binding.id
    ]


class TripdeckCommands(Provider):
    """Every bound action of the screen the palette was opened on."""

    def _commands(self) -> list[tuple[str, str, DOMNode, str]]:
        commands = []
        for node, binding, keys in bindings_of(self.screen):
            if node is not self.app and not node.check_action(binding.action, ()):
                continue
            commands.append((binding.tooltip or binding.description, keys, node, binding.action))
        return commands

    async def discover(self) -> Hits:
        for description, keys, node, action in self._commands():
            yield DiscoveryHit(description, partial(self._run, node, action), help=f"key: {keys}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for description, keys, node, action in self._commands():
            score = matcher.match(description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(description),
                    partial(self._run, node, action),
                    help=f"key: {keys}",
                )

    async def _run(self, node: DOMNode, action: str) -> None:
        await self.app.run_action(action, node)
