"""Members' SSH public keys (`trip ssh`): parsing a `.pub` line, storing it with its SHA256
fingerprint (one user per key), and finding a key's user when it signs in."""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.server.clock import new_id, now_ms
from app.server.storage import tables as t

KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
RSA_MIN_BITS = 2048
KEYS_PER_USER = 50


class KeyProblem(ValueError):
    """The text is not one OpenSSH public key we accept; the message says why without quoting it
    (someone may paste a private key by mistake)."""


class KeyTaken(Exception):
    """That key is already registered (to this user or another)."""


@dataclass(frozen=True)
class PublicKey:
    algorithm: str
    blob: bytes
    comment: str | None

    @property
    def line(self) -> str:
        """What is stored: `type base64`, without the comment."""
        return f"{self.algorithm} {base64.b64encode(self.blob).decode()}"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)


def fingerprint(blob: bytes) -> str:
    """`SHA256:<unpadded base64 of the SHA-256 of the key blob>`, as `ssh-keygen -l` prints it."""
    import hashlib

    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def parse_public_key(text: str) -> PublicKey:
    """One OpenSSH public key line (`ssh-ed25519 AAAA... comment`), checked by asyncssh: its type
    is one of KEY_TYPES and the type inside the key says the same; RSA keys have 2048 bits or more.
    Private keys, certificates, options (authorized_keys style) and several lines are refused."""
    if "PRIVATE KEY" in text:
        raise KeyProblem(
            "That is a private key: give the public one (the .pub file), and keep the private key secret"
        )
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) != 1:
        raise KeyProblem("Give exactly one public key, one line as in ~/.ssh/id_ed25519.pub")
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise KeyProblem(f"Not an OpenSSH public key line: it must start with one of {', '.join(KEY_TYPES)}")
    algorithm, encoded = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) == 3 else None
    try:
        blob = base64.b64decode(encoded, validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        inner = blob[4 : 4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError):
        raise KeyProblem("The key's base64 part is damaged") from None
    if inner != algorithm:
        raise KeyProblem("The key's type does not match the type written before it")
    import asyncssh  # only where a key is read: the service's other routes do not load it

    try:
        key = asyncssh.import_public_key(f"{algorithm} {encoded}")
    except (asyncssh.KeyImportError, ValueError):
        raise KeyProblem("The key's data is not a valid key of its type") from None
    bits = getattr(getattr(key, "pyca_key", None), "key_size", None)
    if algorithm == "ssh-rsa" and bits is not None and bits < RSA_MIN_BITS:
        raise KeyProblem(
            f"An RSA key needs at least {RSA_MIN_BITS} bits (this one has {bits}); an ed25519 key is better"
        )
    return PublicKey(algorithm, blob, comment[:200] if comment else None)


def _as_item(row) -> dict:
    return {
        "_id": row["id"],
        "name": row["name"],
        "fingerprint": row["fingerprint"],
        "_creationTime": row["created_at"],
        "lastUsedTime": row["last_used_at"],
    }


_columns = (
    t.ssh_keys.c.id,
    t.ssh_keys.c.name,
    t.ssh_keys.c.fingerprint,
    t.ssh_keys.c.created_at,
    t.ssh_keys.c.last_used_at,
)


async def add_key(conn: AsyncConnection, user_id: str, key: PublicKey, name: str | None = None) -> dict:
    """Store `key` as `user_id`'s; raises KeyTaken if it is anyone's already and KeyProblem when
    the user has KEYS_PER_USER keys. Returns the API's item."""
    taken = select(t.ssh_keys.c.id).where(t.ssh_keys.c.fingerprint == key.fingerprint)
    if (await conn.execute(taken)).first() is not None:
        raise KeyTaken
    count = (await conn.execute(select(func.count()).where(t.ssh_keys.c.user_id == user_id))).scalar_one()
    if count >= KEYS_PER_USER:
        raise KeyProblem(f"A user has at most {KEYS_PER_USER} SSH keys: delete one first")
    row = {
        "id": new_id(),
        "user_id": user_id,
        "fingerprint": key.fingerprint,
        "public_key": key.line,
        "name": name or key.comment,
        "created_at": now_ms(),
        "last_used_at": None,
    }
    try:
        await conn.execute(insert(t.ssh_keys).values(**row))
    except IntegrityError:  # the same key, added meanwhile by another request (the write rolls back)
        raise KeyTaken from None
    return _as_item(row)


async def list_keys(conn: AsyncConnection, user_id: str) -> list[dict]:
    rows = await conn.execute(
        select(*_columns)
        .where(t.ssh_keys.c.user_id == user_id)
        .order_by(t.ssh_keys.c.created_at, t.ssh_keys.c.id)
    )
    return [_as_item(row._mapping) for row in rows]


async def delete_key(conn: AsyncConnection, user_id: str, key_id: str) -> bool:
    """Delete one of `user_id`'s keys; False when they have no key with that id."""
    result = await conn.execute(
        delete(t.ssh_keys).where(t.ssh_keys.c.id == key_id, t.ssh_keys.c.user_id == user_id)
    )
    return result.rowcount > 0


@dataclass(frozen=True)
class KeyOwner:
    key_id: str
    user_id: str
    email: str
    name: str


async def owner_of(conn: AsyncConnection, key_fingerprint: str) -> KeyOwner | None:
    """Whose key this is (by its fingerprint), or None."""
    row = (
        await conn.execute(
            select(t.ssh_keys.c.id, t.users.c.id.label("user_id"), t.users.c.email, t.users.c.name)
            .join(t.users, t.users.c.id == t.ssh_keys.c.user_id)
            .where(t.ssh_keys.c.fingerprint == key_fingerprint)
        )
    ).first()
    return None if row is None else KeyOwner(row.id, row.user_id, row.email, row.name)


async def touch(conn: AsyncConnection, key_id: str) -> None:
    await conn.execute(update(t.ssh_keys).where(t.ssh_keys.c.id == key_id).values(last_used_at=now_ms()))
