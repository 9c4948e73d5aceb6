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


def canonical_text(value: Any) -> str:
    """The one canonical JSON of both sides: what is signed, fingerprinted and stored."""
    try:
        return json.dumps(
            value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    except ValueError as exc:  # NaN or Infinity: not JSON, and not the same bytes everywhere
        raise CanonicalError(f"not representable as canonical JSON: {exc}") from exc


def canonical(value: Any) -> bytes:
    return canonical_text(value).encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)  # in C; only a short dict means there was a repeat to name
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise CanonicalError(f"duplicate key {key!r}")
            seen.add(key)
    return found


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
    if isinstance(value, (dict, list)):
        _check_depth(value)
    return value


def _check_depth(value: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH. Iterative, and only containers are visited: the
    leaves (most of a bundle) cost nothing."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CanonicalError(f"nested deeper than {MAX_DEPTH}")
        for item in node.values() if type(node) is dict else node:
            if type(item) is dict or type(item) is list:
                stack.append((item, depth + 1))
