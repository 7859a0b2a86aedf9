"""The terminal UI (Textual, so asyncio only)."""

import sys


def _httpcore_without_trio() -> None:
    """Import httpcore (under httpx) without letting it import trio, which it does whenever trio is
    installed, to pick its locks when run under trio: a sizeable part of a `trip ui` start for a
    library that a Textual app, which runs on asyncio only, never uses. Only when neither is imported yet,
    and trio stays importable afterwards."""
    if "httpcore" in sys.modules or "trio" in sys.modules:
        return
    sys.modules["trio"] = None  # type: ignore[assignment]  # makes `import trio` raise ImportError
    try:
        import httpcore  # noqa: F401
    finally:
        del sys.modules["trio"]


_httpcore_without_trio()
