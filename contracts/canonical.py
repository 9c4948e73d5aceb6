"""Canonical JSON for signing, and a strict parser for what arrives from outside.

Canonical: sorted keys, UTF-8, no insignificant whitespace, no NaN or Infinity, so the same
content always has the same bytes and so the same signature. Strict: duplicate keys, NaN,
Infinity, over-deep nesting and oversized input are refused, since each lets two readers see
two different documents in the same bytes.

The standard library's ``json`` is the reference for both (``canonical_text``,
``_reference_loads``). ``canonical`` and ``strict_loads`` take orjson's faster path where it is
known to give the reference's result, and the reference's path everywhere else: a verifier
that disagreed with a signer by one byte would refuse every bundle it signed.
``tests/unit/test_canonical_fast.py`` holds the two paths equal.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

MAX_BUNDLE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64

# Subclasses, dates and dataclasses are left to the reference: orjson would write some of them
# where the reference refuses, or write them differently.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
# orjson writes 1e-7 where the reference writes 1e-07; both agree with two exponent digits.
_SHORT_NEGATIVE_EXPONENT = re.compile(rb"[0-9]e-[0-9](?![0-9])")
_JSON_WHITESPACE = b" \t\n\r"
# orjson reads an integer beyond 64 bits as a float; the reference keeps it an integer.
_WIDEST_EXACT_INT = 2**63


class CanonicalError(ValueError):
    """The bytes are not one clean JSON document; the message says where."""


def canonical_text(value: Any) -> str:
    """The one canonical JSON of both sides (the reference encoder): what is signed,
    fingerprinted and stored."""
    try:
        return json.dumps(
            value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    except ValueError as exc:  # NaN or Infinity: not JSON, and not the same bytes everywhere
        raise CanonicalError(f"not representable as canonical JSON: {exc}") from exc


def _reference(value: Any) -> bytes:
    text = canonical_text(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate (from a "\ud800" escape) has no UTF-8
        raise CanonicalError(f"not representable as canonical JSON: {exc.reason}") from None


def canonical(value: Any) -> bytes:
    """``canonical_text(value)`` as UTF-8, byte for byte, about ten times faster."""
    try:
        out = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:  # integers beyond 64 bits, lone surrogates, deep nesting...
        return _reference(value)
    # Where orjson may differ, the output gives it away (rarely otherwise: then the reference
    # runs for nothing, and is still right). NaN and Infinity come out as null, which the
    # reference refuses; orjson shortens small numbers' exponents.
    if (b"null" in out and _has_non_finite(value)) or b"0.0000" in out:
        return _reference(value)
    if b"e-" in out and _SHORT_NEGATIVE_EXPONENT.search(out):
        return _reference(value)
    return out


def _has_non_finite(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is float and not math.isfinite(node):
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


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


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400: read as Infinity, which canonical JSON cannot write
        raise CanonicalError(f"{text} is out of range for a number")
    return number


def strict_loads(data: bytes) -> Any:
    if len(data) > MAX_BUNDLE_BYTES:
        raise CanonicalError(f"larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:  # the reference names the problem (or reads what orjson won't)
        return _reference_loads(data)
    if type(value) is dict or type(value) is list:
        keys, inexact = _shape(value)
        # orjson keeps the last of two equal keys without a word. Every key written ends in
        # '"', maybe white space, ':', so without the white space, counting '":' counts every
        # key written (and now and then a string's own, which only sends the document to the
        # reference). As many keys read as written: there was no repeat.
        written = data.translate(None, _JSON_WHITESPACE).count(b'":')
        if inexact or written != keys:
            return _reference_loads(data)
    elif type(value) is float and value.is_integer() and abs(value) >= _WIDEST_EXACT_INT:
        return _reference_loads(data)
    return value


def _reference_loads(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"not UTF-8 at byte {exc.start}") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_float=_finite,
        )
    except CanonicalError:
        raise
    except RecursionError:
        raise CanonicalError("nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError: truncated, garbage
        raise CanonicalError(f"not JSON: {exc}") from None
    if isinstance(value, dict | list):
        _shape(value)
    return value


def _shape(value: dict[str, Any] | list[Any]) -> tuple[int, bool]:
    """(keys in all objects, whether a float may stand for a wider integer); refuses nesting
    deeper than MAX_DEPTH. One level at a time, in comprehensions: a 200-service bundle has
    thousands of leaves and this runs on every one of them."""
    level: list[Any] = [value]
    keys, inexact = 0, False
    for _ in range(MAX_DEPTH + 1):
        keys += sum([len(node) for node in level if type(node) is dict])
        leaves = [
            item
            for node in level
            for item in (node.values() if type(node) is dict else node)
            if type(item) is not str
        ]
        level = [item for item in leaves if type(item) is dict or type(item) is list]
        if not inexact and len(level) != len(leaves):
            inexact = any(
                type(item) is float and item.is_integer() and abs(item) >= _WIDEST_EXACT_INT
                for item in leaves
            )
        if not level:
            return keys, inexact
    raise CanonicalError(f"nested deeper than {MAX_DEPTH}")
