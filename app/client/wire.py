"""Request bodies and response parsing shared by the clients: domain models in, wire JSON out,
wire JSON in, domain models out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pydantic
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from app.client.errors import UnexpectedResponseError, ValidationError
from app.domain.fields import VALIDATION_REASONS

M = TypeVar("M", bound=BaseModel)


class _NotGiven:
    """Marks a keyword argument the caller did not pass (None is a value: it clears a field)."""

    _instance: _NotGiven | None = None

    def __new__(cls) -> _NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Any = _NotGiven()


def given(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not NOT_GIVEN}


def segment(value: str) -> str:
    """One path segment: ids are opaque and may come from untrusted places, so quote them."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty id string, got {value!r}")
    return quote(value, safe="")


def wire_name(part: str | int) -> str:
    """A pydantic error location part as the service names it: `start_date` -> `startDate`."""
    if isinstance(part, int):
        return str(part)
    return to_camel(part.rstrip("_")) if part.islower() or "_" in part else part


def local_validation_error(exc: pydantic.ValidationError, model: type[BaseModel]) -> ValidationError:
    details = []
    for error in exc.errors():
        path = ".".join(wire_name(part) for part in error.get("loc", ())) or "body"
        details.append({"path": path, "reason": VALIDATION_REASONS.get(error.get("type", ""), "invalid")})
    names = ", ".join(f"{d['path']} ({d['reason']})" for d in details)
    return ValidationError(
        f"Invalid {model.__name__} (checked before sending): {names}",
        status=400,
        code="VALIDATION_ERROR",
        details=details,
    )


def build_body(
    model: type[BaseModel], body: BaseModel | Mapping[str, Any] | None, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The JSON body of a create or update call, with only the fields the caller gave.

    - a domain model (`LegCreate(...)`) is sent as `model_dump(by_alias=True, exclude_unset=True)`;
    - keyword arguments (snake_case) are checked against `model` first, so a typo or a bad date
      fails here with a `ValidationError` instead of a round trip; they override a model's fields;
    - a plain mapping is sent exactly as given (camelCase wire JSON, not checked): the escape
      hatch for fields this SDK version does not know yet.
    """
    if isinstance(body, Mapping):
        if fields:
            raise TypeError("pass either a raw mapping or keyword fields, not both")
        return dict(body)
    if body is not None and not isinstance(body, BaseModel):
        raise TypeError(f"body must be a {model.__name__}, a mapping or None, not {type(body).__name__}")
    if body is None or fields:
        data = body.model_dump(exclude_unset=True) if body is not None else {}
        data.update(fields)
        try:
            body = model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise local_validation_error(exc, model) from None
    return body.model_dump(mode="json", by_alias=True, exclude_unset=True)


def item_body(model: type[BaseModel], item: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """One item of a batch or sync list: a model is dumped, a mapping goes as it is (the server
    reports each bad item on its own, so nothing is checked here)."""
    if isinstance(item, BaseModel):
        return item.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(item, Mapping):
        return dict(item)
    raise TypeError(f"items must be {model.__name__} models or mappings, not {type(item).__name__}")


def parse(model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except pydantic.ValidationError as exc:
        raise UnexpectedResponseError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code} "
            f"with a body that is not a {model.__name__}: {exc.error_count()} problem(s), first: "
            f"{exc.errors()[0].get('msg')}",
            response=response,
        ) from exc
