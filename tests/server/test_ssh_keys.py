"""/me/ssh-keys: public keys only, stored with their SHA256 fingerprint, one user per key."""

from __future__ import annotations

import subprocess

import asyncssh
import pytest

from tests.server.support import assert_error


def public_line(kind: str = "ssh-ed25519", comment: str = "alice@laptop", **options) -> tuple[str, str]:
    """A fresh key's `.pub` line and its fingerprint as asyncssh computes it."""
    key = asyncssh.generate_private_key(kind, comment=comment, **options)
    return key.export_public_key().decode().strip(), key.get_fingerprint()


async def test_add_list_delete(alice):
    line, fingerprint = public_line()
    created = await alice.http.post("/me/ssh-keys", json={"publicKey": line})
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"_id", "name", "fingerprint", "_creationTime"}
    assert body["fingerprint"] == fingerprint and body["fingerprint"].startswith("SHA256:")
    assert body["name"] == "alice@laptop"  # the comment, when no name is given
    listed = (await alice.http.get("/me/ssh-keys")).json()
    assert listed["nextCursor"] is None
    assert [(k["_id"], k["fingerprint"], k["lastUsedTime"]) for k in listed["items"]] == [
        (body["_id"], fingerprint, None)
    ]
    assert (await alice.http.delete(f"/me/ssh-keys/{body['_id']}")).status_code == 204
    assert (await alice.http.get("/me/ssh-keys")).json()["items"] == []
    assert_error(await alice.http.delete(f"/me/ssh-keys/{body['_id']}"), 404, "NOT_FOUND")


def test_fingerprint_is_what_ssh_keygen_prints(tmp_path):
    from app.server.storage.ssh_keys import parse_public_key

    line, _ = public_line("ecdsa-sha2-nistp256")
    (tmp_path / "k.pub").write_text(line + "\n")
    try:
        printed = subprocess.run(
            ["ssh-keygen", "-l", "-f", str(tmp_path / "k.pub")], capture_output=True, text=True
        )
    except FileNotFoundError:
        pytest.skip("no ssh-keygen here")
    assert printed.stdout.split()[1] == parse_public_key(line).fingerprint


async def test_a_key_belongs_to_one_user(alice, bob):
    line, fingerprint = public_line()
    assert (
        await alice.http.post("/me/ssh-keys", json={"publicKey": line, "name": "work"})
    ).status_code == 201
    for actor in (alice, bob):
        taken = await actor.http.post(
            "/me/ssh-keys", json={"publicKey": line.rsplit(" ", 1)[0] + " other comment"}
        )
        assert_error(taken, 409, "CONFLICT")
        assert fingerprint in taken.json()["error"]["message"]
    assert (await bob.http.get("/me/ssh-keys")).json()["items"] == []


async def test_others_keys_cannot_be_deleted(alice, bob):
    line, _ = public_line()
    key_id = (await alice.http.post("/me/ssh-keys", json={"publicKey": line})).json()["_id"]
    assert_error(await bob.http.delete(f"/me/ssh-keys/{key_id}"), 404, "NOT_FOUND")
    assert len((await alice.http.get("/me/ssh-keys")).json()["items"]) == 1


async def test_private_key_is_refused_without_echoing_it(alice):
    key = asyncssh.generate_private_key("ssh-ed25519")
    private = key.export_private_key().decode()
    response = await alice.http.post("/me/ssh-keys", json={"publicKey": private})
    assert_error(response, 400, "VALIDATION_ERROR")
    assert "private key" in response.json()["error"]["message"]
    assert private.splitlines()[1] not in response.text
    assert (await alice.http.get("/me/ssh-keys")).json()["items"] == []


@pytest.mark.parametrize(
    "text",
    [
        "not a key",
        "ssh-ed25519",
        "ssh-ed25519 !!!notbase64",
        "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
        "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIABWcjD4PVJw1j7ufVAPRWEOfjjxglEu9uBrLLGCnSkQ",  # ed25519 data
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIABW",  # cut short
    ],
)
async def test_what_is_not_one_public_key_is_400(alice, text):
    assert_error(await alice.http.post("/me/ssh-keys", json={"publicKey": text}), 400, "VALIDATION_ERROR")


async def test_two_keys_in_one_body_and_short_rsa_are_400(alice):
    first, _ = public_line()
    second, _ = public_line()
    assert_error(
        await alice.http.post("/me/ssh-keys", json={"publicKey": f"{first}\n{second}"}),
        400,
        "VALIDATION_ERROR",
    )
    short, _ = public_line("ssh-rsa", key_size=1024)
    response = await alice.http.post("/me/ssh-keys", json={"publicKey": short})
    assert_error(response, 400, "VALIDATION_ERROR")
    assert "2048" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "scopes", [["trips:read"], ["trips:read", "trips:write", "messages:read", "messages:write:x"]]
)
async def test_a_narrow_key_lists_but_cannot_add_or_delete(make_actor, scopes):
    narrow = await make_actor(scopes=scopes)
    line, _ = public_line()
    assert (await narrow.http.get("/me/ssh-keys")).status_code == 200
    assert_error(await narrow.http.post("/me/ssh-keys", json={"publicKey": line}), 403, "FORBIDDEN")
    assert_error(await narrow.http.delete("/me/ssh-keys/whatever"), 403, "FORBIDDEN")


async def test_unknown_key_is_401(server):
    async with server.client("osk_unknown") as http:
        assert_error(await http.get("/me/ssh-keys"), 401, "UNAUTHORIZED")
