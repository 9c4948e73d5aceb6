"""orjson's fast paths in contracts/canonical.py against the standard library's reference: the
same canonical bytes for every value a bundle can hold, and the same document (or the same
refusal) from the strict parser for any input. One byte of difference would make a verifier
refuse every bundle a signer on the other path signed."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from contracts.canonical import (
    MAX_DEPTH,
    CanonicalError,
    _reference,
    _reference_loads,
    canonical,
    strict_loads,
)

# Every value JSON can carry, and so every value the bundle schema allows before it is checked
# (catalogue is free-form JSON until parsed): integers of any width, every finite float, any
# text (control characters, astral planes, lone surrogates from "\ud800" escapes).
texts = st.text(
    st.characters(codec=None, exclude_categories=())
    | st.sampled_from(["\ud800", "\udfff", "\x00", "\x1f", "\x7f", '"', "\\", "\u2028", ":", " "]),
    max_size=12,
)
floats = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [1e16, 1e-5, 1e-7, 1.5e-9, 1e22, 5e-324, -0.0, 2.0**63, -(2.0**63), 1.8446744073709552e19]
)
integers = st.integers() | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1])
leaves = st.none() | st.booleans() | integers | floats | texts
json_values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(texts, inner, max_size=5),
    max_leaves=40,
)


def same_encoding(value: Any) -> None:
    try:
        expected: bytes | str = _reference(value)
    except CanonicalError as exc:
        expected = f"refused: {exc}"
    try:
        got: bytes | str = canonical(value)
    except CanonicalError as exc:
        got = f"refused: {exc}"
    assert got == expected


@settings(max_examples=1500, deadline=None)
@given(json_values)
@example({"a": float("nan")})
@example([float("inf"), None])
@example({"x": "null", "y": "0.00001", "z": "1e-7"})  # what the fast path looks for, in text
@example({"\U0001f600": 1, "\uffff": 2, "é": 3, "z": 4})  # key order by code point
def test_canonical_bytes_equal_the_reference_encoders(value: Any) -> None:
    same_encoding(value)


def test_canonical_bytes_for_float_edges() -> None:
    for exponent in range(-330, 310):
        for mantissa in (1.0, 1.5, 9.999999, 1.2345678901234567, 5.0):
            try:
                number = float(f"{mantissa}e{exponent}")
            except OverflowError:
                continue
            if math.isfinite(number):
                same_encoding([number, -number])


def test_canonical_of_what_json_cannot_say_is_refused_either_way() -> None:
    for bad in ({"a": float("nan")}, [float("-inf")], "\ud800"):
        with pytest.raises(CanonicalError):
            canonical(bad)


def same_document(data: bytes) -> None:
    try:
        expected = repr(_reference_loads(data))  # repr: 1 and 1.0, -0.0 and 0.0 differ
    except CanonicalError as exc:
        expected = f"refused: {exc}"
    try:
        got = repr(strict_loads(data))
    except CanonicalError as exc:
        got = f"refused: {exc}"
    assert got == expected


def written(value: Any, style: int) -> bytes:
    """*value* as JSON, the ways signers and editors write it."""
    if style == 0:
        return json.dumps(value).encode()
    if style == 1:
        return json.dumps(value, ensure_ascii=False, indent=1).encode()
    if style == 2:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return json.dumps(value, separators=(" , ", " :\n\t")).encode()


@settings(max_examples=1000, deadline=None)
@given(json_values, st.integers(0, 3))
def test_the_strict_parser_reads_what_the_reference_reads(value: Any, style: int) -> None:
    try:
        data = written(value, style)
    except ValueError:  # NaN from the strategy's floats cannot be written at all
        return
    same_document(data)


# Documents that only the reference path may read right: repeats (also spelt differently, or
# with white space before the colon), integers orjson reads as floats, escapes orjson refuses.
TRICKY = [
    b'{"a":1,"a":2}',
    b'{"a" :1,"a":2}',
    b'{"a":1,"\\u0061":2}',
    b'{"a"\n:\t1, "b": {"c": 1, "c" : 1}}',
    b'{"x": ":", "a": 1, "a": 2}',
    b'{"x": "\\":", "a": 1}',
    b'{":": 1}',
    b"18446744073709551616",
    b'{"big": 18446744073709551616, "neg": -9223372036854775809}',
    b'{"ok": 18446744073709551615, "f": 1e19}',
    b'["\\ud800"]',
    b"[1e400]",
    b'{"v": NaN}',
    b"[Infinity]",
    b"\xef\xbb\xbf{}",
    b'{"a": 1,}',
    b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    b"[" * MAX_DEPTH + b"]" * MAX_DEPTH,
    b"[" * 2000 + b"]" * 2000,
    b'"\xff"',
    b"",
    b"  ",
]


@pytest.mark.parametrize("data", TRICKY, ids=range(len(TRICKY)))
def test_the_strict_parser_on_tricky_documents(data: bytes) -> None:
    same_document(data)


def test_repeated_keys_are_refused_by_name() -> None:
    for data in (b'{"a" :1,"a":2}', b'{"a":1,"\\u0061":2}', b'[{"k": 1, "k" : 2}]'):
        with pytest.raises(CanonicalError, match="duplicate key"):
            strict_loads(data)


@settings(max_examples=1000, deadline=None)
@given(json_values, st.integers(0, 3), st.data())
def test_the_strict_parser_agrees_on_damaged_documents(
    value: Any, style: int, data: st.DataObject
) -> None:
    """Bytes cut, flipped or inserted anywhere: both paths read the same, or refuse alike."""
    try:
        raw = bytearray(written(value, style))
    except ValueError:
        return
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["cut", "flip", "insert"]))
        byte = data.draw(st.sampled_from(list(b'{}[]":,\\ \n0123456789e-.tfnu\x00\xff')))
        if action == "cut":
            del raw[where : where + 1]
        elif action == "flip" and where < len(raw):
            raw[where] = byte
        else:
            raw.insert(where, byte)
    same_document(bytes(raw))


def test_the_reference_path_is_the_standard_library() -> None:
    assert "orjson" in sys.modules  # the fast path is in use, not silently absent
    assert _reference({"b": [1, 1.5], "a": "中"}) == '{"a":"中","b":[1,1.5]}'.encode()
