"""The `trip` command: the composition root that wires server, client, TUI and MCP together."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC
from typing import TYPE_CHECKING

from app.settings import API_URL, DATABASE_URL, environment

if TYPE_CHECKING:  # imported where used: each command imports only what it needs (start-up time)
    from app.demo_server import DemoServer
    from app.tui.app import TripdeckApp

EPILOG = """\
examples:
  trip demo
      a lively demo trip in the terminal UI
  trip serve --port 8000
      run the API on http://127.0.0.1:8000/api/v1
  KEY=$(trip keys create --email you@example.com)
      make a user (if new) and an API key
  trip keys list --email you@example.com
      your keys (never the keys themselves); trip keys revoke ID
  trip keys add-ssh --email you@example.com ~/.ssh/id_ed25519.pub
      then: ssh -p 2222 this-host
  trip ssh --port 2222 --url http://127.0.0.1:8000/api/v1
      members reach their trip ui with plain ssh
  trip ui --url http://127.0.0.1:8000/api/v1 --key osk_...
      the terminal UI on your service (plain trip ui asks once, then remembers)
  TRIP_API_KEY=$KEY trip mcp
      the API as an MCP server for AI agents (stdio)
  trip export --trip ID --format ics -o trip.ics
      the trip's calendar (also geojson, json)
  trip import snapshot.json --trip ID --dry-run
      what a sync import would change
"""


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="SQLAlchemy URL (sqlite+aiosqlite:///file.db, postgresql+asyncpg://...) or a file path; "
        "default: $TRIP_DATABASE_URL or a SQLite file in your data directory",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trip",
        description="Tripdeck: plan a trip together from the terminal.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="run the REST service", description="Run the trip API (uvicorn)."
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument(
        "--rate-limit", type=int, default=60, metavar="N", help="requests per minute per key (default 60)"
    )
    serve.add_argument("--public-url", default=None, help="base URL used in share links")
    serve.add_argument(
        "--failed-auth-limit",
        type=int,
        default=30,
        metavar="N",
        help="failed attempts (unknown keys, share tokens) per minute per client address, "
        "then 429 for the address until the minute ends (default 30)",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        type=_proxy,
        metavar="ADDR",
        help="a reverse proxy (address or network) whose X-Forwarded-For is believed: the "
        "client is then the right-most address that is not a trusted proxy (repeatable; "
        "by default X-Forwarded-For is ignored)",
    )
    _add_db(serve)

    keys = commands.add_parser("keys", help="manage API keys", description="Manage API keys.")
    key_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = key_commands.add_parser(
        "create",
        help="create a key (and the user, if new); prints the key alone on stdout",
        description="Create an API key for a user (created with a personal group if missing). "
        "The key is printed once, alone on stdout: KEY=$(trip keys create --email a@b.c)",
    )
    create.add_argument("--email", required=True, help="the user's email")
    create.add_argument("--name", default=None, help="display name for a new user")
    create.add_argument(
        "--scope",
        action="append",
        default=None,
        metavar="SCOPE",
        help="trips:read, trips:write, messages:read, messages:write, optionally :<tripId>; "
        "repeatable; default: all four",
    )
    _add_db(create)
    listing = key_commands.add_parser(
        "list",
        help="a user's keys: id, name, scopes, created, last used (never the key)",
        description="List a user's API keys: id, name, scopes, when created and when last used (UTC; "
        "a server records a use at most once a minute). The keys themselves are never shown.",
    )
    listing.add_argument("--email", required=True, help="the user's email")
    _add_db(listing)
    revoke = key_commands.add_parser(
        "revoke",
        help="delete a key: every server refuses it within a second",
        description="Revoke an API key, given the key itself (osk_...) or its id from `trip keys list`. "
        "Every server process on this database refuses it within a second.",
    )
    revoke.add_argument("key", metavar="KEY_OR_ID", help="the key (osk_...) or its id")
    _add_db(revoke)
    add_ssh = key_commands.add_parser(
        "add-ssh",
        help="register an SSH public key for a user (and the user, if new), for trip ssh",
        description="Register an SSH public key (a .pub file) for a user, created with a personal group if "
        "missing; prints its SHA256 fingerprint. A key belongs to one user.",
    )
    add_ssh.add_argument("--email", required=True, help="the user's email")
    add_ssh.add_argument("--name", default=None, help="a name for the key (default: its comment)")
    add_ssh.add_argument("file", metavar="FILE.pub", help="the public key file, or - for stdin")
    _add_db(add_ssh)

    ssh = commands.add_parser(
        "ssh",
        help="serve the terminal UI over SSH (members sign in with their registered SSH keys)",
        description="An SSH server next to the service: a member whose SSH key is registered (trip keys "
        "add-ssh, or /me/ssh-keys) gets their own `trip ui` with `ssh -p PORT HOST`, nothing to install. "
        "It reads the database as `trip keys` does, and each session's app talks to the API at --url "
        "with a key made for the session and revoked when it ends.",
    )
    ssh.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ssh.add_argument("--port", type=int, default=2222, help="port to listen on (default 2222)")
    ssh.add_argument(
        "--url",
        default=None,
        help="the API root the sessions use (default: $TRIP_API_URL, else http://127.0.0.1:8000/api/v1)",
    )
    ssh.add_argument(
        "--host-key",
        default=None,
        metavar="FILE",
        help="the server's private host key, made (ed25519, 0600) if missing; default: "
        "ssh_host_ed25519_key in your data directory",
    )
    ssh.add_argument(
        "--sessions-per-user",
        type=int,
        default=3,
        metavar="N",
        help="sessions a member may have open (default 3)",
    )
    ssh.add_argument("--max-sessions", type=int, default=50, metavar="N", help="sessions in all (default 50)")
    ssh.add_argument(
        "--idle-timeout",
        type=float,
        default=3600,
        metavar="SECONDS",
        help="close a session after this long without a keystroke (default 3600)",
    )
    ssh.add_argument(
        "--failed-auth-limit",
        type=int,
        default=10,
        metavar="N",
        help="failed sign-ins per minute per client address, then the address is refused until the "
        "minute ends (default 10)",
    )
    _add_db(ssh)

    ui = commands.add_parser(
        "ui",
        help="open the terminal UI",
        description="Open the terminal UI. URL and key come from the flags, else $TRIP_API_URL and "
        "$TRIP_API_KEY, else the config file; the first run asks for them and saves them (0600).",
    )
    ui.add_argument("--url", default=None, help="the API root, e.g. http://127.0.0.1:8000/api/v1")
    ui.add_argument("--key", default=None, help="your API key (osk_...)")
    ui.add_argument("--trip", default=None, metavar="ID", help="open this trip directly")
    ui.add_argument(
        "--share",
        default=None,
        metavar="TOKEN",
        help="open a trip read-only through its share link (the token or the whole URL; no key needed; "
        "else $TRIP_SHARE_TOKEN, which `ps` does not show to other users)",
    )

    demo = commands.add_parser(
        "demo",
        help="a lively demo trip in the terminal UI (embedded server)",
        description="Start an embedded server on a loopback port with its own SQLite file, seed a demo "
        "trip and open the terminal UI on it; simulated companions chat and tick the checklist.",
    )
    demo.add_argument("--no-companions", action="store_true", help="keep the trip quiet")
    _add_db(demo)
    mcp = commands.add_parser(
        "mcp",
        help="run the MCP server for AI agents (stdio; --http for streamable HTTP)",
        description="Serve the trip API to AI agents over the Model Context Protocol. Reads TRIP_API_URL "
        "(default http://127.0.0.1:8000/api/v1) and TRIP_API_KEY; every call goes through the API with that key.",
    )
    mcp.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    mcp.add_argument(
        "--host", default="127.0.0.1", help="with --http: address to listen on (default 127.0.0.1)"
    )
    mcp.add_argument("--port", type=int, default=8765, help="with --http: port to listen on (default 8765)")
    mcp.add_argument("--path", default="/mcp", help="with --http: endpoint path (default /mcp)")

    from app.transfer_args import add_commands

    add_commands(commands)
    return parser


def _database_url(arg: str | None) -> str:
    if arg:
        return arg
    from app.server.settings import default_database_url  # only server commands import the server

    return default_database_url()


def _proxy(value: str) -> str:
    import ipaddress

    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an IP address or network") from None
    return value.strip()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.server.app import create_app
    from app.server.settings import Settings

    settings = Settings(
        database_url=_database_url(args.db),
        rate_limit=args.rate_limit,
        public_url=args.public_url,
        failed_auth_limit=args.failed_auth_limit,
        trusted_proxies=tuple(args.trusted_proxy),
    )
    asyncio.run(_open_database(settings.database_url))  # a database that cannot be used: one line, below
    print(
        f"Tripdeck API on http://{args.host}:{args.port}/api/v1 (database: {settings.database_url})",
        file=sys.stderr,
    )
    # proxy_headers=False: uvicorn would otherwise take the client address from X-Forwarded-For
    # of any local peer; the server decides whom to believe (--trusted-proxy).
    uvicorn.run(
        create_app(settings), host=args.host, port=args.port, log_level="warning", proxy_headers=False
    )
    return 0


def cmd_keys_create(args: argparse.Namespace) -> int:
    from app.server.storage.accounts import create_key, ensure_user
    from app.server.storage.database import Database

    async def run() -> str:
        db = Database(_database_url(args.db))
        try:
            await db.migrate()
            async with db.write() as conn:
                user_id = await ensure_user(conn, args.email, args.name)
                return await create_key(conn, user_id, args.scope)
        finally:
            await db.dispose()

    try:
        key = asyncio.run(run())
    except ValueError as exc:
        print(f"trip keys create: {exc}", file=sys.stderr)
        return 2
    print(key)
    if not args.db:
        # A server started with --db elsewhere would not know this key: say where it went.
        source = DATABASE_URL if environment().database_url else "the default"
        print(
            f"trip keys create: the key is in {_shown_database(_database_url(None))} ({source}); a server on "
            "another database needs the same --db here",
            file=sys.stderr,
        )
    return 0


def _shown_database(url: str) -> str:
    """The database URL as a message shows it: without its password."""
    from sqlalchemy.engine import make_url

    from app.server.storage.database import normalise_url

    return make_url(normalise_url(url)).render_as_string(hide_password=True)


async def _open_database(url: str) -> None:
    """Open and migrate the database once, so that a wrong --db fails here, in one line."""
    from app.server.storage.database import Database

    db = Database(url)
    try:
        await db.migrate()
    finally:
        await db.dispose()


def _database_problem(error: BaseException) -> str | None:
    """What is wrong with the --db database, in words, when `error` says the database (not our
    code) failed: it does not answer, refuses us, or its file cannot be made or opened."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    try:
        from asyncpg import PostgresError
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        PostgresError = ()
    if isinstance(error, (OSError, OperationalError, DBAPIError, PostgresError)):
        reason = getattr(error, "orig", None) or error
        return f"{reason.__class__.__name__}: {reason}".splitlines()[0]
    return None


def _on_database(args: argparse.Namespace, work):
    """Run `work(conn)` in one write transaction on the --db database, migrated first."""
    from app.server.storage.database import Database

    async def run():
        db = Database(_database_url(args.db))
        try:
            await db.migrate()
            async with db.write() as conn:
                return await work(conn)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _utc(ms: int | None) -> str:
    from datetime import datetime

    if ms is None:
        return "never"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def cmd_keys_list(args: argparse.Namespace) -> int:
    from app.server.storage.accounts import list_keys

    keys = _on_database(args, lambda conn: list_keys(conn, args.email))
    if keys is None:
        print(f"trip keys list: no user with the email {args.email}", file=sys.stderr)
        return 1
    rows = [("ID", "NAME", "SCOPES", "CREATED", "LAST USED")] + [
        (
            key["id"],
            key["name"] or "-",
            ",".join(key["scopes"]),
            _utc(key["created_at"]),
            _utc(key["last_used_at"]),
        )
        for key in keys
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[4])
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from app.server.storage.accounts import revoke_key

    revoked = _on_database(args, lambda conn: revoke_key(conn, args.key))
    if revoked is None:
        print(
            "trip keys revoke: no such key (give the key itself or its id from `trip keys list`)",
            file=sys.stderr,
        )
        return 1
    print(f"revoked key {revoked['id']} of {revoked['email']}")
    return 0


def cmd_keys_add_ssh(args: argparse.Namespace) -> int:
    from app.server.storage import ssh_keys
    from app.server.storage.accounts import ensure_user

    try:
        text = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read(64_000)
        key = ssh_keys.parse_public_key(text)
    except (OSError, UnicodeDecodeError) as error:
        print(f"trip keys add-ssh: cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    except ssh_keys.KeyProblem as problem:
        print(f"trip keys add-ssh: {args.file}: {problem}", file=sys.stderr)
        return 2

    async def add(conn):
        return await ssh_keys.add_key(conn, await ensure_user(conn, args.email), key, args.name)

    try:
        added = _on_database(args, add)
    except ssh_keys.KeyTaken:
        print(f"trip keys add-ssh: the key {key.fingerprint} is already registered", file=sys.stderr)
        return 1
    except ssh_keys.KeyProblem as problem:
        print(f"trip keys add-ssh: {problem}", file=sys.stderr)
        return 1
    print(added["fingerprint"])
    return 0


def cmd_ssh(args: argparse.Namespace) -> int:
    import logging
    import signal
    from pathlib import Path

    from platformdirs import user_data_dir

    from app.client.client import resolve_base_url
    from app.ssh.server import Config, HostKeyProblem, Limits, TripSSH

    try:
        url = resolve_base_url(args.url)
    except ValueError as exc:
        print(f"trip ssh: {exc}", file=sys.stderr)
        return 2
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    session_log = logging.getLogger(
        "trip.ssh"
    )  # a line per session and per refusal; asyncssh's own stay quiet
    session_log.addHandler(handler)
    session_log.setLevel(logging.INFO)
    host_key = (
        Path(args.host_key) if args.host_key else Path(user_data_dir("tripdeck")) / "ssh_host_ed25519_key"
    )
    limits = Limits(
        sessions_per_user=args.sessions_per_user,
        sessions_total=args.max_sessions,
        idle_timeout=args.idle_timeout,
        failed_auth_per_minute=args.failed_auth_limit,
    )
    service = TripSSH(
        Config(database_url=_database_url(args.db), api_url=url, host_key=host_key, limits=limits)
    )

    async def run() -> int:
        try:
            port = await service.start(args.host, args.port)
        except HostKeyProblem as problem:
            print(f"trip ssh: {problem}", file=sys.stderr)
            await service.db.dispose()
            return 1
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.set)
        print(
            f"Tripdeck over SSH on {args.host}:{port} (ssh -p {port} {args.host}), API {url}, "
            f"host key {service.host_key_fingerprint}",
            file=sys.stderr,
        )
        await stop.wait()
        await service.close()
        return 0

    return asyncio.run(run())


def cmd_ui(args: argparse.Namespace) -> int:
    from app.tui import startup

    startup.hold_collector()  # until the first screen is up: see app/tui/startup.py
    from app.tui import config
    from app.tui.app import TripdeckApp
    from app.tui.clock import Clock, local_zone

    settings = config.resolve(args.url, args.key)
    clock = Clock(
        zone=local_zone(settings.timezone)
    )  # the viewer's clock: the config's zone, else the system's
    # From the environment too (trip ssh passes it so): a command line is shown by `ps` to every local user.
    args.share = args.share or environment().share_token
    if settings.url and not args.share and (problem := config.url_problem(settings.url)):
        where = (
            "--url"
            if args.url
            else API_URL
            if environment().api_url
            else f"the config file {config.config_path()}"
        )
        print(f"trip ui: {problem} (from {where})", file=sys.stderr)
        return 2
    if args.share:
        from app.client import SharedTripClient

        try:
            shared = SharedTripClient(
                args.share, base_url=args.url or (settings.url if "://" not in args.share else None)
            )
        except ValueError as error:
            print(f"trip ui: {error}", file=sys.stderr)
            return 2
        TripdeckApp(url=shared.base_url, shared=shared, keymap=settings.keymap, clock=clock).run()
        return 0
    TripdeckApp(
        url=settings.url, key=settings.key, trip_id=args.trip, keymap=settings.keymap, clock=clock
    ).run()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    # app.tui first: it keeps httpcore from importing trio (see there).
    from app.tui import startup

    startup.hold_collector()  # until the first screen is up: see app/tui/startup.py
    from app.demo_server import DemoServer

    server = DemoServer(database_url=args.db, companions=not args.no_companions)
    print(f"Starting the demo server on {server.url} …", file=sys.stderr)
    server.begin()
    app = None
    try:
        # The server migrates, seeds and starts in its thread while the UI's modules load here.
        app = demo_app(server)
        if app is None:
            return 1
        app.run()
    finally:
        end_demo(server, app)
    return 0


def demo_app(server: DemoServer) -> TripdeckApp | None:
    """The terminal app on the demo trip, once `server` (begun) has seeded it; None when it could
    not start (said on stderr)."""
    from app.demo.story import YOU
    from app.tui import config
    from app.tui.app import TripdeckApp
    from app.tui.clock import Clock, local_zone

    saved = config.load()
    try:
        server.wait()
    except RuntimeError as error:  # the database cannot be opened, the port taken...
        print(f"trip demo: {error}", file=sys.stderr)
        return None
    assert server.trip is not None
    return TripdeckApp(
        url=server.url,
        key=server.keys[YOU.ref],
        trip_id=server.trip.trip_id,
        join_command=server.join_command(),
        keymap=saved.keymap,
        clock=Clock(zone=local_zone(saved.timezone)),
        outbox_path=server.outbox_path,  # never the user's own: see DemoServer.outbox_path
    )


def end_demo(server: DemoServer, app: TripdeckApp | None) -> None:
    """Stop the demo's service and throw its outbox away with it, naming what was still unsent:
    nothing could ever send it (the next demo is another service, on another port)."""
    if app is not None and (unsent := unsent_in_demo(app)):
        print(f"trip demo: never sent, and gone with the demo: {unsent}", file=sys.stderr)
    server.stop()


def unsent_in_demo(app: TripdeckApp) -> str:
    """What waits in the demo's outbox, as one line ("" when nothing): the app's own items by
    name, with why the service refused them, and how many a joined terminal (`j`) left."""
    from app.tui.text import clean

    named = [
        clean(item.label, single_line=True)
        + (f" ({clean(item.error, single_line=True)})" if item.error else "")
        for item in app.outbox.refresh()
    ]
    if others := len(app.outbox.kept):
        named.append(f"{others} of the joined terminal's")
    return "; ".join(named)


def cmd_mcp(args: argparse.Namespace) -> int:
    from app.client.client import resolve_base_url

    if not environment().api_key:
        print("trip mcp: set TRIP_API_KEY (make one with `trip keys create --email ...`)", file=sys.stderr)
        return 2
    try:
        url = resolve_base_url(None)
    except ValueError as exc:
        print(f"trip mcp: TRIP_API_URL: {exc}", file=sys.stderr)
        return 2
    from app.mcp import run

    # stdout is the protocol's channel on stdio: everything human goes to stderr.
    where = f"http://{args.host}:{args.port}{args.path}" if args.http else "stdio"
    if args.http and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"trip mcp: warning: {args.host} is not loopback, and the MCP endpoint has no login of its own: "
            "anyone who reaches it acts with this API key",
            file=sys.stderr,
        )
    print(f"Tripdeck MCP server on {where}, API {url}", file=sys.stderr)
    run(http=args.http, host=args.host, port=args.port, path=args.path)
    return 0


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """`parser.parse_args`, except that an unknown option is reported by the (sub)command it was
    given to, with that command's usage: argparse leaves extras to the top-level parser, which
    answered `trip demo --bogus` with the usage of `trip`."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        target = parser
        for name in (getattr(args, "command", None), getattr(args, "keys_command", None)):
            choices = next(
                (
                    action.choices
                    for action in target._actions
                    if isinstance(action, argparse._SubParsersAction)
                ),
                None,
            )
            if not name or not choices or name not in choices:
                break
            target = choices[name]
        target.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = _parse(parser, argv)
    if args.command in ("serve", "keys", "ssh"):
        command = {
            "serve": cmd_serve,
            "ssh": cmd_ssh,
            "create": cmd_keys_create,
            "list": cmd_keys_list,
            "revoke": cmd_keys_revoke,
            "add-ssh": cmd_keys_add_ssh,
        }[args.command if args.command in ("serve", "ssh") else args.keys_command]
        try:
            return command(args)
        except Exception as error:
            if (problem := _database_problem(error)) is None:
                raise
            print(
                f"trip {args.command}: cannot use the database {_shown_database(_database_url(args.db))}: "
                f"{problem}",
                file=sys.stderr,
            )
            return 1
    if args.command == "ui":
        return cmd_ui(args)
    if args.command == "demo":
        return cmd_demo(args)
    if args.command == "mcp":
        return cmd_mcp(args)
    if args.command in ("export", "import"):
        from app.tui.config import resolve

        saved = resolve(args.url, args.key)  # as trip ui finds them: flags, environment, its config file
        args.url, args.key = saved.url, saved.key
    if args.command == "export":
        from app.transfer import cmd_export

        return cmd_export(args)
    if args.command == "import":
        from app.transfer import cmd_import

        return cmd_import(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
