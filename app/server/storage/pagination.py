"""Opaque keyset cursors: a page ends at a row, the next page starts after its sort key."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Integer, Select, and_, or_

from app.server.errors import validation_error


def encode(values: Sequence[Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(list(values), separators=(",", ":")).encode())
        .decode()
        .rstrip("=")
    )


def _int_range(expression: Any) -> int:
    """Largest magnitude an integer sort key can have: int4 for Integer, int8 otherwise."""
    column_type = getattr(expression, "type", None)
    if isinstance(column_type, Integer) and not isinstance(column_type, BigInteger):
        return 2**31 - 1
    return 2**63 - 1


def _fits(value: Any, column: Any) -> bool:
    """A cursor value of the sort column's type (a forged cursor must not reach the SQL)."""
    try:
        expected = column.type.python_type
    except NotImplementedError:
        return isinstance(value, (str, int, float))
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int) and abs(value) > _int_range(column):
        return False  # int4 for Integer columns (PostgreSQL checks), int8 otherwise
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if isinstance(value, str) and "\x00" in value:
        return False
    if expected is float:
        return isinstance(value, (int, float))
    return isinstance(value, expected)


def decode(cursor: str, sort: Sequence[Any]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(sort):
            raise ValueError
        if not all(_fits(value, column) for value, column in zip(values, sort, strict=False)):
            raise ValueError
        return values
    except (ValueError, UnicodeDecodeError, json.JSONDecodeError):
        raise validation_error([{"path": "cursor", "reason": "invalid"}], "Invalid cursor") from None


def after(columns: Sequence[Any], values: Sequence[Any], *, descending: bool = False):
    """Rows strictly after `values` in the order of `columns` (a portable row comparison)."""
    clauses = []
    for i, column in enumerate(columns):
        equal = [columns[j] == values[j] for j in range(i)]
        step = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


async def page(
    conn,
    query: Select,
    sort: Sequence[Any],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """Run `query` for one page; `sort` are the sort expressions (labelled in the select as
    `_k0`, `_k1`, ...). Returns the rows and the next cursor (None on the last page)."""
    if cursor:
        query = query.where(after(sort, decode(cursor, sort), descending=descending))
    order = [s.desc() if descending else s.asc() for s in sort]
    query = query.add_columns(*(s.label(f"_k{i}") for i, s in enumerate(sort)))
    rows = (await conn.execute(query.order_by(*order).limit(limit + 1))).mappings().all()
    if len(rows) <= limit:
        return list(rows), None
    rows = rows[:limit]
    last = rows[-1]
    return list(rows), encode([last[f"_k{i}"] for i in range(len(sort))])
