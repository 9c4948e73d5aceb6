"""APDUs and ISO 7816 status words without pcscd: the codec, 61xx/6Cxx handling over a scripted
exchange, the virtual card's answers and vpcd's framing."""

from __future__ import annotations

import pytest

from drivers.apdu import (
    GET_UID,
    CommandApdu,
    PcscError,
    ResponseApdu,
    StatusWordError,
    read_uid,
    sw_meaning,
    transmit,
)
from drivers.sim_vpcd import (
    APPLET_AID,
    APPLET_RECORD,
    DEFAULT_UID,
    CardApplication,
    VirtualCard,
    VpcdFramer,
)


class Script:
    """An exchange that answers from a list and records what it was sent."""

    def __init__(self, *answers: str) -> None:
        self.answers = [bytes.fromhex(a) for a in answers]
        self.sent: list[str] = []

    def __call__(self, apdu: bytes) -> bytes:
        self.sent.append(apdu.hex().upper())
        return self.answers.pop(0)


@pytest.mark.parametrize(
    ("raw", "apdu"),
    [
        ("00A40400", CommandApdu(0x00, 0xA4, 0x04, 0x00)),  # case 1
        ("FFCA000000", CommandApdu(0xFF, 0xCA, 0, 0, le=256)),  # case 2, Le 00 = 256
        ("00B2010410", CommandApdu(0x00, 0xB2, 1, 4, le=16)),
        ("00A4040002A0B1", CommandApdu(0x00, 0xA4, 4, 0, b"\xa0\xb1")),  # case 3
        ("00A4040002A0B100", CommandApdu(0x00, 0xA4, 4, 0, b"\xa0\xb1", 256)),  # case 4
    ],
)
def test_command_apdus_round_trip(raw: str, apdu: CommandApdu) -> None:
    assert CommandApdu.parse(bytes.fromhex(raw)) == apdu
    assert apdu.encode() == bytes.fromhex(raw)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("00A404", "at least 4 bytes"),
        ("00A4040000000100", "extended"),
        ("00A4040003A0B1", "does not match Lc"),
        ("00A4040001A0B1C2D3", "does not match Lc"),
    ],
)
def test_malformed_command_apdus(raw: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        CommandApdu.parse(bytes.fromhex(raw))
    with pytest.raises(PcscError) as info:
        transmit(Script(), bytes.fromhex(raw))
    assert info.value.code == "bad_apdu"


def test_response_apdus() -> None:
    r = ResponseApdu.parse(bytes.fromhex("01029000"))
    assert (r.data, r.sw, r.sw1, r.sw2, r.ok) == (b"\x01\x02", 0x9000, 0x90, 0x00, True)
    assert r.encode() == bytes.fromhex("01029000")
    for raw, code in ((b"", "no_answer"), (b"\x90", "bad_response")):
        with pytest.raises(PcscError) as info:
            ResponseApdu.parse(raw)
        assert info.value.code == code


@pytest.mark.parametrize(
    ("sw", "code", "meaning"),
    [
        (0x9000, "ok", "success"),
        (0x6A82, "not_found", "file or application not found"),
        (0x6982, "security_not_satisfied", "security status not satisfied"),
        (0x6D00, "ins_not_supported", "instruction not supported"),
        (0x6E00, "cla_not_supported", "class not supported"),
        (0x63C2, "verification_failed", "verification failed, 2 tries left"),
        (0x6110, "more_data", "16 more bytes available"),
        (0x6C00, "wrong_le", "wrong Le, the card has 256 bytes"),
        (0x6A99, "wrong_parameters", "wrong parameters"),
        (0x9123, "unknown_status", "unknown status word"),
    ],
)
def test_status_word_meanings(sw: int, code: str, meaning: str) -> None:
    assert sw_meaning(sw) == (code, meaning)


def test_61xx_is_collected_with_get_response_on_the_same_channel() -> None:
    script = Script("6108", "00112233445566776104", "8899AABB9000")
    r = transmit(script, bytes.fromhex("01A4040002A0B100"))  # logical channel 1
    assert r.data == bytes.fromhex("00112233445566778899AABB") and r.ok
    assert script.sent[1:] == ["01C0000008", "01C0000004"]


@pytest.mark.parametrize(
    ("cla", "get_cla"), [(0x00, 0x00), (0x03, 0x03), (0x0C, 0x00), (0x80, 0x00), (0x45, 0x45)]
)
def test_get_response_class(cla: int, get_cla: int) -> None:
    script = Script("6102", "AABB9000")
    transmit(script, bytes((cla, 0xB0, 0, 0, 0)))
    assert script.sent[1][:2] == f"{get_cla:02X}"


def test_6cxx_resends_with_the_le_the_card_named() -> None:
    script = Script("6C07", "04A1B2C3D4E5F69000")
    assert transmit(script, bytes.fromhex("FFCA000002")).data == DEFAULT_UID
    assert script.sent == ["FFCA000002", "FFCA000007"]
    script = Script("6C00", "9000")  # 00 names 256, sent as 00
    transmit(script, bytes.fromhex("00B0000010"))
    assert script.sent[1] == "00B0000000"


def test_6cxx_inside_a_get_response_chain() -> None:
    script = Script("6110", "6C04", "DEADBEEF9000")
    assert transmit(script, bytes.fromhex("00A4040001AA")).data == bytes.fromhex("DEADBEEF")
    assert script.sent[1:] == ["00C0000010", "00C0000004"]


def test_a_card_that_never_stops_saying_61xx_is_an_error() -> None:
    class Babbler:
        def __call__(self, apdu: bytes) -> bytes:
            return bytes.fromhex("AA6101")

    with pytest.raises(PcscError) as info:
        transmit(Babbler(), bytes.fromhex("00B0000001"))
    assert info.value.code == "bad_response"


def test_error_status_words_raise_with_sw_and_meaning() -> None:
    with pytest.raises(StatusWordError) as info:
        transmit(Script("6A82"), bytes.fromhex("00A4040002A0B1"))
    err = info.value
    assert (err.sw, err.code, err.meaning) == (0x6A82, "not_found", "file or application not found")
    assert err.message_key == "card.read_failed" and "6A82" in err.detail
    assert transmit(Script("6A82"), bytes.fromhex("00A4040002A0B1"), check=False).sw == 0x6A82


def test_read_uid() -> None:
    assert read_uid(Script("04A1B2C39000")) == bytes.fromhex("04A1B2C3")
    assert read_uid(Script("6D00")) is None  # a contact card without a UID
    assert read_uid(Script("9000")) is None


# -- the virtual card's answers, over the same transmit() -----------------------------------------
@pytest.fixture
def app() -> CardApplication:
    return CardApplication()


SELECT = bytes((0x00, 0xA4, 0x04, 0x00, len(APPLET_AID))) + APPLET_AID + b"\x00"


def test_virtual_card_uid_with_le_handling(app: CardApplication) -> None:
    assert app.respond(GET_UID) == DEFAULT_UID + b"\x90\x00"
    assert app.respond(bytes.fromhex("FFCA000003")) == bytes.fromhex("6C07")
    assert app.respond(bytes.fromhex("FFCA000010")) == DEFAULT_UID + bytes.fromhex("6282")
    assert app.respond(bytes.fromhex("FFCA0000")) == bytes.fromhex("6700")
    assert app.respond(bytes.fromhex("FFCA010000")) == bytes.fromhex("6A81")
    assert transmit(app.respond, bytes.fromhex("FFCA000002")).data == DEFAULT_UID


def test_virtual_card_applet(app: CardApplication) -> None:
    assert app.respond(bytes.fromhex("00B2010400")) == bytes.fromhex("6986")  # nothing selected
    first = app.respond(SELECT)
    assert first[-2] == 0x61
    fci = transmit(app.respond, SELECT)
    assert fci.ok and APPLET_AID in fci.data
    assert transmit(app.respond, bytes.fromhex("00B2010400")).data == APPLET_RECORD
    assert app.respond(bytes.fromhex("00C0000010")) == bytes.fromhex("6985")  # nothing pending


@pytest.mark.parametrize(
    ("apdu", "sw"),
    [
        ("00A4040003A00000", 0x6A82),  # unknown AID
        ("00A4000002A000", 0x6A86),  # select by something other than a name
        ("00DD000000", 0x6D00),
        ("80CA000000", 0x6E00),
        ("FF77000000", 0x6D00),
        ("00A404", 0x6700),
    ],
)
def test_virtual_card_refusals(app: CardApplication, apdu: str, sw: int) -> None:
    assert app.respond(bytes.fromhex(apdu)) == sw.to_bytes(2, "big")


def test_vpcd_framing_across_chunks() -> None:
    framer = VpcdFramer()
    stream = VpcdFramer.encode(b"\x04") + VpcdFramer.encode(GET_UID) + VpcdFramer.encode(b"\x01")
    assert framer.feed(stream[:1]) == []
    assert framer.feed(stream[1:5]) == [b"\x04"]
    assert framer.feed(stream[5:]) == [GET_UID, b"\x01"]
    assert VpcdFramer.encode(b"\x3b\x80") == b"\x00\x02\x3b\x80"


def test_virtual_card_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="fault"):
        VirtualCard(faults=frozenset({"smoke"}))
    with pytest.raises(ValueError, match="UID"):
        VirtualCard(uid=b"")
    card = VirtualCard()
    with pytest.raises(ValueError, match="fault"):
        card.inject("smoke")


def test_pcsc_return_codes_map_to_stable_codes() -> None:
    scard = pytest.importorskip("smartcard.scard")
    from drivers.pcsc_reader import _hresult_error

    for hr, code, transport in [
        (scard.SCARD_E_NO_SERVICE, "service_not_running", True),
        (scard.SCARD_F_COMM_ERROR, "service_not_running", True),
        (scard.SCARD_E_UNKNOWN_READER, "reader_missing", False),
        (scard.SCARD_W_REMOVED_CARD, "card_removed", False),
        (scard.SCARD_E_NOT_TRANSACTED, "transmit_failed", False),
        (scard.SCARD_E_INVALID_VALUE, "pcsc_error", False),
    ]:
        err = _hresult_error(scard, hr, "doing it")
        assert (err.code, err.transport) == (code, transport)
        assert err.detail.startswith("doing it: ") and f"0x{hr & 0xFFFFFFFF:08X}" in err.detail
