"""The SAM frame codec and the GA/T 490 record: known frames, tables of bad input, a fuzz test."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.idcard import IdCard
from drivers.sam_protocol import (
    PREAMBLE,
    Command,
    Frame,
    FrameDecoder,
    FrameError,
    encode_command,
    encode_response,
    status_of,
)
from drivers.sam_record import (
    RecordError,
    decode_card,
    encode_read_answer,
    encode_text,
    split_read_answer,
)
from drivers.sim_cards import SAMPLE_CARDS, sample_photo

FIND = bytes.fromhex("AAAAAA9669000320 0122".replace(" ", ""))
FIND_OK = bytes.fromhex("AAAAAA966900080000 9F00000000 97".replace(" ", ""))


def test_find_command_matches_the_reference_bytes() -> None:
    assert encode_command(Command.FIND_CARD) == FIND


def test_find_answer_matches_the_reference_bytes() -> None:
    assert encode_response(0x9F, b"\x00\x00\x00\x00") == FIND_OK
    (frame,) = FrameDecoder().feed(FIND_OK)
    assert isinstance(frame, Frame)
    assert frame.sw3 == 0x9F and frame.data == b"\x00" * 4


def test_a_full_read_answer_is_1295_bytes() -> None:
    card = SAMPLE_CARDS[0]
    answer = encode_response(
        0x90, encode_read_answer(encode_text(card), sample_photo(card.id_number))
    )
    assert len(answer) == 1295


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (b"\x00\x13garbage" + FIND_OK, ["garbage", "ok"]),
        (FIND_OK[:-1] + b"\x00" + FIND_OK, ["checksum", "garbage", "ok"]),
        (PREAMBLE + b"\xff\xff" + FIND_OK, ["length", "garbage", "ok"]),
        (PREAMBLE + b"\x00\x01\x00" + FIND_OK, ["length", "garbage", "ok"]),
        (FIND_OK + FIND_OK, ["ok", "ok"]),
    ],
)
def test_decoder_resynchronises_after_bad_bytes(stream: bytes, expected: list[str]) -> None:
    results = FrameDecoder().feed(stream)
    assert [r.code if isinstance(r, FrameError) else "ok" for r in results] == expected


def test_decoder_waits_for_a_frame_split_across_reads() -> None:
    decoder = FrameDecoder()
    out: list[Frame | FrameError] = []
    for i in range(len(FIND_OK)):
        out += decoder.feed(FIND_OK[i : i + 1])
    assert out == [Frame(FIND_OK[7:-1])]
    assert decoder.pending == 0


@pytest.mark.parametrize(
    ("sw3", "code", "key"),
    [
        (0x90, "ok", None),
        (0x9F, "find_ok", None),
        (0x80, "no_card", None),
        (0x41, "read_failed", "card.read_failed"),
        (0x40, "wrong_card_type", "card.invalid"),
        (0x66, "sam_not_authorised", "device.reader_unavailable"),
        (0x10, "reader_checksum_error", "card.read_failed"),
        (0x91, "no_such_item", None),
        (0x55, "unknown_status_55", "device.reader_unavailable"),
    ],
)
def test_status_words(sw3: int, code: str, key: str | None) -> None:
    status = status_of(sw3)
    assert (status.code, status.message_key) == (code, key)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=40))
def test_fuzz_decoder_never_crashes_and_accounts_for_every_byte(chunks: list[bytes]) -> None:
    decoder = FrameDecoder()
    consumed = 0
    for chunk in chunks:
        for result in decoder.feed(chunk):
            if isinstance(result, FrameError):
                assert result.dropped > 0
                consumed += result.dropped
            else:
                consumed += 8 + len(result.payload)
    assert consumed + decoder.pending == sum(len(c) for c in chunks)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 255), st.binary(max_size=40))
def test_fuzz_a_good_frame_survives_surrounding_noise(noise: bytes, sw3: int, data: bytes) -> None:
    frame = encode_response(sw3, data)
    results = FrameDecoder().feed(noise + frame)
    assert Frame(frame[7:-1]) in results


@pytest.mark.parametrize("card", SAMPLE_CARDS)
def test_record_round_trip(card: IdCard) -> None:
    text = encode_text(card)
    assert len(text) == 256
    data = encode_read_answer(text, sample_photo(card.id_number))
    decoded = decode_card(*split_read_answer(data))
    assert decoded == card


def _broken(**changes: object) -> bytes:
    return encode_text(replace(SAMPLE_CARDS[1], **changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (_broken(id_number="110101195310010131"), "bad_id_number"),
        (_broken(sex="7"), "bad_sex"),
        (_broken(nation="X1"), "bad_nation"),
        (_broken(name=""), "empty_name"),
        (encode_text(SAMPLE_CARDS[1])[:200], "text_length"),
        (encode_text(SAMPLE_CARDS[1]).replace("20320720".encode("utf-16-le"),
                                              "20321340".encode("utf-16-le")), "bad_date"),
        (b"\x00\xd8" * 128, "text_encoding"),
    ],
)  # fmt: skip
def test_bad_records_are_refused_with_a_code(text: bytes, code: str) -> None:
    with pytest.raises(RecordError) as info:
        decode_card(text, b"")
    assert info.value.code == code
    assert "李建国" not in str(info.value) and "11010119" not in str(info.value)


def test_read_answer_lengths_must_add_up() -> None:
    with pytest.raises(RecordError, match="answer_length"):
        split_read_answer(b"\x01\x00\x04\x00" + b"\x00" * 10)
    with pytest.raises(RecordError, match="short_answer"):
        split_read_answer(b"\x01")


def test_long_term_card_has_no_expiry() -> None:
    assert decode_card(encode_text(SAMPLE_CARDS[0]), b"").valid_to is None
    assert SAMPLE_CARDS[0].birth_date == date(1948, 3, 12)
