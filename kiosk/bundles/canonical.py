"""Canonical JSON for signing, and a strict parser for what arrives from outside.

Canonical: sorted keys, UTF-8, no insignificant whitespace, no NaN or Infinity, so the same
content always has the same bytes and so the same signature. Strict: duplicate keys, NaN,
Infinity, over-deep nesting and oversized input are refused, since each lets two readers see
two different documents in the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

MAX_BUNDLE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64


class CanonicalError(ValueError):
    """The bytes are not one clean JSON document; the message says where."""


def canonical(value: Any) -> bytes:
    try:
        text = json.dumps(
            value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    except ValueError as exc:
        raise CanonicalError(f"not representable as canonical JSON: {exc}") from exc
    return text.encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise CanonicalError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _no_constants(name: str) -> Any:
    raise CanonicalError(f"{name} is not JSON")


def strict_loads(data: bytes) -> Any:
    if len(data) > MAX_BUNDLE_BYTES:
        raise CanonicalError(f"larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"not UTF-8 at byte {exc.start}") from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except CanonicalError:
        raise
    except RecursionError:
        raise CanonicalError("nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError: truncated, garbage
        raise CanonicalError(f"not JSON: {exc}") from None
    _check_depth(value, 0)
    return value


def _check_depth(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CanonicalError(f"nested deeper than {MAX_DEPTH}")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)
