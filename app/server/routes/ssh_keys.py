"""`/me/ssh-keys`: the caller's SSH public keys, which sign them in to `trip ssh`.

Listing needs any valid key. Adding or deleting one needs a key with all four scopes for every
trip: an SSH session acts with such a key (see app/ssh), so a narrower key must not be able to
register a way in that is wider than itself."""

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from app.domain import models as m
from app.server.auth import ALL_SCOPES, ApiKey, CurrentKey
from app.server.deps import Db
from app.server.errors import ApiError, ErrorResponses, forbidden, not_found, validation_error
from app.server.responses import JSON, page
from app.server.storage import ssh_keys as store

router = APIRouter(prefix="/me/ssh-keys", tags=["me"], responses=ErrorResponses)


def _require_full_key(key: ApiKey) -> None:
    if not all((scope, None) in key.scopes for scope in ALL_SCOPES):
        raise forbidden(
            "Adding or deleting an SSH key needs a key with all four scopes on every trip "
            "(an SSH session acts with such a key)"
        )


@router.get("", response_model=m.SshKeyPage, summary="Your SSH public keys (for trip ssh), oldest first")
async def list_ssh_keys(db: Db, key: CurrentKey) -> Any:
    async with db.read() as conn:
        return page(await store.list_keys(conn, key.user_id), None)


@router.post(
    "",
    response_model=m.SshKey,
    status_code=201,
    summary="Register an SSH public key",
    description="One OpenSSH public key line (`ssh-ed25519 AAAA... comment`; ECDSA, RSA of 2048 bits or more and "
    "their `sk-` forms too), stored with its SHA256 fingerprint as `ssh-keygen -l` prints it; `name` defaults to "
    "the key's comment. A key belongs to one user: one registered to anyone is 409 CONFLICT. A private key, "
    "several lines or a damaged key is 400 (the key is never echoed). Needs an API key with all four scopes on "
    "every trip (403 otherwise): a `trip ssh` session acts with such a key.",
)
async def add_ssh_key(db: Db, key: CurrentKey, body: m.SshKeyCreate) -> Any:
    _require_full_key(key)
    try:
        public_key = store.parse_public_key(body.public_key)
    except store.KeyProblem as problem:
        raise validation_error([{"path": "publicKey", "reason": "invalid"}], str(problem)) from None
    try:
        async with db.write() as conn:
            item = await store.add_key(conn, key.user_id, public_key, body.name)
    except store.KeyTaken:
        raise ApiError(
            409, "CONFLICT", f"The SSH key {public_key.fingerprint} is already registered"
        ) from None
    except store.KeyProblem as problem:
        raise ApiError(409, "CONFLICT", str(problem)) from None
    item.pop("lastUsedTime")
    return JSON(item, status_code=201)


@router.delete(
    "/{ssh_key_id}",
    status_code=204,
    summary="Delete one of your SSH keys",
    description="It no longer signs you in, and `trip ssh` ends the sessions it opened within seconds. Needs an "
    "API key with all four scopes on every trip.",
)
async def delete_ssh_key(db: Db, ssh_key_id: str, key: CurrentKey) -> Response:
    _require_full_key(key)
    async with db.write() as conn:
        if not await store.delete_key(conn, key.user_id, ssh_key_id):
            raise not_found("SSH key")
    return Response(status_code=204)
