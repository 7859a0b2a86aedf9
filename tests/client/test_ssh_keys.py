"""The SDK's SSH-key calls against the real service in-process."""

from __future__ import annotations

import asyncssh
import pytest

from app.client import ConflictError, NotFoundError, ValidationError


async def test_add_list_delete_through_the_sdk(client, bob_client):
    key = asyncssh.generate_private_key("ssh-ed25519", comment="laptop")
    line = key.export_public_key().decode()
    added = await client.add_ssh_key(line, name="work laptop")
    assert (
        added.fingerprint == key.get_fingerprint() and added.name == "work laptop" and added.creation_time > 0
    )
    assert [k.id for k in await client.list_ssh_keys()] == [added.id]
    with pytest.raises(ConflictError):
        await bob_client.add_ssh_key(line)
    with pytest.raises(NotFoundError):
        await bob_client.delete_ssh_key(added.id)
    await client.delete_ssh_key(added.id)
    assert await client.list_ssh_keys() == []


async def test_a_private_key_is_refused(client):
    with pytest.raises(ValidationError) as refused:
        await client.add_ssh_key(asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode())
    assert refused.value.details == [{"path": "publicKey", "reason": "invalid"}]
