"""`trip ssh` in-process when its database cannot be opened: keys are refused with a banner that
says so, and the client's address is not counted as failing (it did nothing wrong)."""

from __future__ import annotations

import asyncssh
import pytest

from app.ssh.server import Config, Limits, TripSSH
from tests.ssh.support import connect


async def test_keys_are_refused_but_not_counted_while_the_database_is_away(tmp_path):
    database = tmp_path / "trip.db"
    service = TripSSH(
        Config(
            database_url=str(database),
            api_url="http://127.0.0.1:9/api/v1",
            host_key=tmp_path / "keys" / "host_key",
            limits=Limits(failed_auth_per_minute=2),
        )
    )
    port = await service.start("127.0.0.1", 0)
    try:
        await service.db.dispose()  # the pooled connections go; new ones find a directory, not a database
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"trip.db{suffix}").unlink(missing_ok=True)
        database.mkdir()
        for _ in range(3):
            banners: list[str] = []

            class Client(asyncssh.SSHClient):
                def auth_banner_received(self, msg: str, lang: str, banners: list[str] = banners) -> None:
                    banners.append(msg)

            with pytest.raises(asyncssh.PermissionDenied):
                async with connect(port, asyncssh.generate_private_key("ssh-ed25519"), client_factory=Client):
                    pass
            assert banners and "cannot check keys right now" in banners[0]
        assert not service.failed.blocked("127.0.0.1")
    finally:
        await service.close()
