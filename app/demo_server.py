"""The embedded server of `trip demo`: the real service on a loopback port in a thread, with its
own SQLite file and outbox in a throwaway directory, a seeded demo trip and simulated companions. Part of the composition root
(it wires server, client and demo together), so it lives beside `app/cli.py`, not in `app.tui`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shlex
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from app.client import TripClient
from app.demo import story
from app.demo.companions import Companions
from app.demo.seed import SeededTrip, seed
from app.server.app import create_app
from app.server.settings import Settings
from app.server.storage.accounts import create_key, ensure_user
from app.server.storage.database import Database
from app.settings import OUTBOX_FILE

DAYS_INTO_TRIP = 6
"""The demo trip started this many days ago, so "today" falls in its middle."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def make_keys(database_url: str) -> dict[str, str]:
    """A user and a key for each person of the story."""
    db = Database(database_url)
    try:
        await db.migrate()
        keys = {}
        async with db.write() as conn:
            for person in story.PEOPLE:
                user_id = await ensure_user(conn, person.email, person.name)
                keys[person.ref] = await create_key(conn, user_id)
        return keys
    finally:
        await db.dispose()


@dataclass
class DemoServer:
    """Start with `start()`; after it returns, `url`, `keys` and `trip` are set."""

    database_url: str | None = None
    companions: bool = True
    interval: tuple[float, float] = (12.0, 30.0)
    port: int = field(default_factory=free_port)
    keys: dict[str, str] = field(default_factory=dict)
    trip: SeededTrip | None = None
    error: BaseException | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _server: object = None
    _directory: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def outbox_path(self) -> Path:
        """The outbox of the terminal apps on this demo (its own and a joined one): never the
        user's own, where items stamped with this run's port would wait for good for a service
        that is gone (and make every later `trip ui` ask the service whose they are)."""
        assert self._directory is not None, "begin() first"
        return Path(self._directory.name) / "outbox.jsonl"

    def join_command(self) -> str:
        assert self.trip is not None
        # `--trip=ID`: an id made before ids stopped starting with "-" still reads as a value.
        return (
            f"{OUTBOX_FILE}={shlex.quote(str(self.outbox_path))} trip ui --url {self.url} "
            f"--key {self.keys[story.GUEST.ref]} --trip={self.trip.trip_id}"
        )

    def start(self, timeout: float = 120) -> None:
        """Start the server and wait until the demo trip is seeded."""
        self.begin()
        self.wait(timeout)

    def begin(self) -> None:
        """Start the server in its thread without waiting (`trip demo` meanwhile imports the UI)."""
        self._directory = tempfile.TemporaryDirectory(prefix="tripdeck-demo-")
        if self.database_url is None:
            self.database_url = f"sqlite+aiosqlite:///{Path(self._directory.name) / 'demo.db'}"
        self._thread = threading.Thread(target=self._run, name="tripdeck-demo-server", daemon=True)
        self._thread.start()

    def wait(self, timeout: float = 120) -> None:
        """Wait until the server answers and the demo trip is seeded (raises if it failed)."""
        if not self._ready.wait(timeout):
            raise RuntimeError("the demo server did not start in time")
        if self.error is not None:
            raise RuntimeError(f"the demo server failed to start: {self.error}") from self.error

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True  # type: ignore[attr-defined]
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._directory is not None:
            self._directory.cleanup()  # the database (unless --db named one) and the outbox

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        import uvicorn

        try:
            assert self.database_url is not None
            self.keys = await make_keys(self.database_url)
            settings = Settings(database_url=self.database_url, rate_limit=1000)
            config = uvicorn.Config(
                create_app(settings), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
            )
            server = uvicorn.Server(config)
            self._server = server
            serving = asyncio.create_task(server.serve())
            while not server.started:
                if serving.done():
                    serving.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.05)
            clients = {ref: TripClient(api_key=key, base_url=self.url) for ref, key in self.keys.items()}
            try:
                start = dt.date.today() - dt.timedelta(days=DAYS_INTO_TRIP)
                self.trip = await seed(clients, start)
            except BaseException as error:
                self.error = error
                server.should_exit = True
                raise
            finally:
                self._ready.set()
            simulation = None
            if self.companions:
                cast = {person.ref: clients[person.ref] for person in story.COMPANIONS}
                simulation = asyncio.create_task(Companions(cast, self.trip, interval=self.interval).run())
            await serving
            if simulation is not None:
                simulation.cancel()
            for client in clients.values():
                await client.aclose()
        except BaseException as error:
            if self.error is None:
                self.error = error
            self._ready.set()
