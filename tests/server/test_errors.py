"""The error envelope everywhere: unknown routes, 405, 413 (also chunked), malformed JSON, 500
without a trace, and X-Request-Id on every response, mirrored in `error.requestId`."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import ValidationError as PydanticValidationError

from app.domain.models import MapPinCreate
from app.server.app import create_app
from app.server.middleware import MAX_BODY
from tests.conftest import BASE
from tests.server.support import assert_error, leg_body


async def test_unknown_route_is_a_404_envelope(alice):
    for path in ("/nope", "/trips/x/unknown", "/../../etc/passwd"):
        assert_error(await alice.http.get(path), 404, "NOT_FOUND")
    # Outside the API prefix too, and without a key.
    async with httpx.AsyncClient(transport=alice.http._transport, base_url="http://tripdeck.test") as anon:
        assert_error(await anon.get("/"), 404, "NOT_FOUND")


async def test_wrong_method_is_a_405_envelope(alice, trip):
    response = await alice.http.put(f"/trips/{trip['_id']}", json={})
    error = assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "PUT" in error["message"]
    assert "allow" in response.headers
    assert_error(await alice.http.delete("/trips"), 405, "METHOD_NOT_ALLOWED")
    assert_error(await alice.http.post("/me", json={}), 405, "METHOD_NOT_ALLOWED")


async def test_body_over_one_mebibyte_is_413(alice, trip):
    path = f"/trips/{trip['_id']}/legs"
    big = leg_body(title="x" * (MAX_BODY + 1))
    assert_error(await alice.http.post(path, json=big), 413, "PAYLOAD_TOO_LARGE")

    async def chunks():  # no Content-Length: the limit must hold on the streamed size
        for _ in range(17):
            yield b"x" * 65536

    response = await alice.http.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    # Nothing was written.
    assert (await alice.http.get(path)).json()["items"] == []


async def test_body_just_under_the_limit_is_read(alice, trip):
    body = b'{"title": "' + b"x" * (MAX_BODY - 100) + b'"}'

    async def chunks():
        for start in range(0, len(body), 50_000):
            yield body[start : start + 50_000]

    response = await alice.http.patch(f"/trips/{trip['_id']}", content=chunks())
    assert_error(response, 400, "VALIDATION_ERROR", {"title": "too_long"})


@pytest.mark.parametrize(
    "raw", [b"{", b'{"title": }', b"\xff\xfe", b"{'title': 'x'}", b'{"a":1}{"b":2}', b"[" * 200_000]
)
async def test_malformed_json_is_a_validation_error(alice, trip, raw):
    response = await alice.http.post(
        f"/trips/{trip['_id']}/legs", content=raw, headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "VALIDATION_ERROR", {"body": "invalid"})


async def test_missing_and_non_object_bodies(alice, trip):
    path = f"/trips/{trip['_id']}/map-pins"
    assert_error(await alice.http.post(path), 400, "VALIDATION_ERROR", {"body": "required"})
    for body in ([], "pin", 3, None):
        assert_error(await alice.http.post(path, json=body), 400, "VALIDATION_ERROR")


async def test_form_encoded_body_is_read_as_json(alice, trip):
    # `curl -d '{...}'` sends application/x-www-form-urlencoded; the API reads every body as JSON.
    response = await alice.http.patch(
        f"/trips/{trip['_id']}",
        content=b'{"title": "Curl"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Curl"


async def test_unhandled_exception_is_a_500_without_a_trace(settings, server):
    app = create_app(settings, server.db)  # a fresh app instance: the test route never ships

    @app.get("/api/v1/test-only/boom")
    async def boom():
        raise RuntimeError("SELECT secret FROM api_keys -- Traceback leak canary")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        response = await http.get("/test-only/boom")
    error = assert_error(response, 500, "INTERNAL_ERROR")
    assert "canary" not in response.text and "Traceback" not in response.text
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert set(error) == {"code", "message", "requestId"}


async def test_every_response_carries_a_request_id(alice, trip, make_actor):
    tid = trip["_id"]
    responses = [
        await alice.http.get("/me"),
        await alice.http.get(f"/trips/{tid}/legs"),
        await alice.http.post(f"/trips/{tid}/map-pins", json={"name": "x", "lat": 0, "lng": 0}),
        await alice.http.get("/nope"),
        await alice.http.get("/trips", params={"limit": 0}),
        await alice.http.get("/api/v1/openapi.json".removeprefix("/api/v1")),
    ]
    pin = responses[2].json()["_id"]
    responses.append(await alice.http.delete(f"/trips/{tid}/map-pins/{pin}"))
    assert responses[-1].status_code == 204
    anon = httpx.AsyncClient(transport=alice.http._transport, base_url=BASE)
    responses.append(await anon.get("/me"))
    await anon.aclose()
    ids = [r.headers.get("x-request-id") for r in responses]
    assert all(ids) and len(set(ids)) == len(ids)
    for response in responses:
        assert response.headers.get_list("x-request-id") == [response.headers["x-request-id"]]
        if response.status_code >= 400:
            assert response.json()["error"]["requestId"] == response.headers["x-request-id"]


async def test_openapi_document_describes_every_route(alice):
    response = await alice.http.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    paths = doc["paths"]
    expected = {
        "/api/v1/me": {"get"},
        "/api/v1/trips": {"get", "post"},
        "/api/v1/trips/{trip_id}": {"get", "patch", "delete"},
        "/api/v1/trips/{trip_id}/channels": {"get", "post"},
        "/api/v1/trips/{trip_id}/channels/{channel_id}/messages": {"get", "post"},
        "/api/v1/trips/{trip_id}/members": {"get", "post"},
        "/api/v1/trips/{trip_id}/members/{user_id}": {"patch", "delete"},
    }
    for resource in ("legs", "action-items", "commitments", "map-pins"):
        expected[f"/api/v1/trips/{{trip_id}}/{resource}"] = {"get", "post"}
        expected[f"/api/v1/trips/{{trip_id}}/{resource}/{{item_id}}"] = {"get", "patch", "delete"}
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
        for method in methods:
            operation = paths[path][method]
            success = [s for s in operation["responses"] if s.startswith("2")]
            assert success, (path, method)
            for status in success:
                if status != "204":
                    schema = operation["responses"][status]["content"]["application/json"]["schema"]
                    assert "$ref" in schema, (path, method, status, schema)
            for status in ("401", "403", "404"):
                if path == "/api/v1/me" and status in ("403", "404"):
                    continue
                assert status in operation["responses"], (path, method, status)
            if method in ("post", "patch"):
                assert "requestBody" in operation, (path, method)
                assert "400" in operation["responses"]
            assert "422" not in operation["responses"], "validation errors are 400 envelopes"
            assert operation["security"] == [{"apiKey": []}]
    schemas = doc["components"]["schemas"]
    assert schemas["Leg"]["properties"]["stays"]["items"] == {"$ref": "#/components/schemas/Accommodation"}
    assert "LegPage" in schemas and "HTTPValidationError" not in schemas


async def test_number_past_the_parser_limit_is_a_validation_error(alice, trip):
    raw = b'{"name": "x", "lat": ' + b"9" * 5000 + b', "lng": 0}'
    response = await alice.http.post(f"/trips/{trip['_id']}/map-pins", content=raw)
    assert_error(response, 400, "VALIDATION_ERROR", {"body": "invalid"})


async def test_nul_characters_are_refused_everywhere_alike(alice, trip):
    # PostgreSQL text cannot hold U+0000: refused as invalid on every backend, never a 500.
    tid = trip["_id"]
    response = await alice.http.post(
        f"/trips/{tid}/map-pins", json={"name": "a\u0000b", "lat": 0, "lng": 0, "notes": "\u0000"}
    )
    assert_error(response, 400, "VALIDATION_ERROR", {"name": "invalid", "notes": "invalid"})
    response = await alice.http.post(f"/trips/{tid}/legs", json=leg_body(stays=[{"name": "\u0000"}]))
    assert_error(response, 400, "VALIDATION_ERROR", {"stays.0.name": "invalid"})
    for path in (
        f"/trips/{tid}%00",
        f"/trips/{tid}/legs/x%00",
        f"/trips/{tid}/channels/x%00/messages",
        f"/trips/{'x' * 5000}",
    ):
        assert_error(await alice.http.get(path), 404, "NOT_FOUND")
    cursor = "WzAsIlx1MDAwMCJd"  # [0, "\u0000"]
    assert_error(
        await alice.http.get(f"/trips/{tid}/legs", params={"cursor": cursor}),
        400,
        "VALIDATION_ERROR",
        {"cursor": "invalid"},
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
async def test_a_body_that_is_not_utf8_is_refused(alice, trip, encoding):
    # Python's json.loads(bytes) would guess these encodings and read the body; the API speaks UTF-8.
    path = f"/trips/{trip['_id']}/map-pins"
    raw = json.dumps({"name": "Pin", "lat": 1, "lng": 2}).encode(encoding)
    error = assert_error(
        await alice.http.post(path, content=raw), 400, "VALIDATION_ERROR", {"body": "invalid"}
    )
    assert "UTF-8" in error["message"]
    assert (await alice.http.get(path)).json()["items"] == []
    assert (
        await alice.http.post(path, content=json.dumps({"name": "Pin", "lat": 1, "lng": 2}).encode())
    ).status_code == 201


async def test_utf8_text_beyond_ascii_is_read(alice, trip):
    response = await alice.http.post(
        f"/trips/{trip['_id']}/map-pins", content='{"name": "Café 東京 🍣", "lat": 1, "lng": 2}'.encode()
    )
    assert response.status_code == 201 and response.json()["name"] == "Café 東京 🍣"


async def test_validation_details_are_capped_with_a_count(alice, trip):
    """A 768 KB body of unknown fields: the first 50 details, and the count of the rest in the
    message, instead of ~70,000 details (a 3 MB answer)."""
    fields = {f"f{i}": 0 for i in range(70_000)}
    raw = json.dumps({"name": "Pin", "lat": 1, "lng": 2, **fields}).encode()
    assert len(raw) > 768 * 1024
    response = await alice.http.post(f"/trips/{trip['_id']}/map-pins", content=raw)
    error = assert_error(response, 400, "VALIDATION_ERROR", {f"f{i}": "unknown_field" for i in range(50)})
    assert "69950 more" in error["message"], error["message"]
    assert len(response.content) < 4096
    # What keeps it cheap: the model reports them as one error, not one per field.
    with pytest.raises(PydanticValidationError) as caught:
        MapPinCreate.model_validate_json(raw)
    assert [e["type"] for e in caught.value.errors()] == ["too_many_unknown_fields"]
    # Under the cap, every field is still named.
    few = {"name": "", "lat": 91, "lng": "x", **{f"f{i}": 0 for i in range(47)}}
    error = assert_error(
        await alice.http.post(f"/trips/{trip['_id']}/map-pins", json=few),
        400,
        "VALIDATION_ERROR",
        {
            "name": "required",
            "lat": "out_of_range",
            "lng": "invalid",
            **{f"f{i}": "unknown_field" for i in range(47)},
        },
    )
    assert "more" not in error["message"]


@pytest.mark.parametrize(
    "raw",
    [b"{", b"\xff\xfe", '{"name": "x"}'.encode("utf-16"), b"9" * 5000, b""],
    ids=["truncated", "bom-only", "utf-16", "long-number", "empty"],
)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer osk_not-a-key-of-ours-0123456789abcdefghij", "Basic eDp5"]
)
async def test_authentication_comes_before_the_body(server, trip, raw, authorization):
    headers = {"content-type": "application/json"} | (
        {"Authorization": authorization} if authorization else {}
    )
    async with server.client() as anonymous:
        for method, path in (
            ("POST", f"/trips/{trip['_id']}/map-pins"),
            ("PATCH", f"/trips/{trip['_id']}"),
            ("POST", "/trips"),
        ):
            response = await anonymous.request(method, path, content=raw, headers=headers)
            assert_error(response, 401, "UNAUTHORIZED")


async def test_malformed_body_with_a_valid_key_counts_against_its_rate_limit(alice, trip):
    response = await alice.http.post(f"/trips/{trip['_id']}/map-pins", content=b"{")
    assert_error(response, 400, "VALIDATION_ERROR", {"body": "invalid"})
    assert "X-RateLimit-Remaining" in response.headers
