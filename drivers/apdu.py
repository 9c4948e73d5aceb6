"""ISO 7816-4 APDUs over any transport: command and response parsing, status words with stable
codes and plain meanings, and ``transmit`` with 61xx (GET RESPONSE) and 6Cxx (resend with the right
Le) handling. Written against one primitive, ``exchange(bytes) -> bytes``, so it runs over a PC/SC
card handle, a simulator or a test's fake alike."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_RESPONSE_CHAIN = 64  # GET RESPONSE rounds before a card is deemed to be babbling
READ_FAILED_KEY = "card.read_failed"


# -- errors ---------------------------------------------------------------------------------------
class PcscError(Exception):
    """A PC/SC operation did not succeed. ``transport`` means the context itself is unusable
    (pcscd gone): the caller must release it and establish a fresh one."""

    def __init__(
        self, code: str, message_key: str, detail: str, *, transport: bool = False
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.message_key, self.detail = code, message_key, detail
        self.transport = transport


class StatusWordError(PcscError):
    """The card answered with an ISO 7816 error status word."""

    def __init__(self, sw: int, command: str = "") -> None:
        code, meaning = sw_meaning(sw)
        where = f"{command}: " if command else ""
        super().__init__(code, READ_FAILED_KEY, f"{where}SW {sw:04X} ({meaning})")
        self.sw, self.meaning = sw, meaning


# -- APDUs and status words (pure: no pyscard) ----------------------------------------------------
@dataclass(frozen=True)
class CommandApdu:
    """A short command APDU (ISO 7816-3 cases 1 to 4). ``le`` is 1..256, None when absent."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def __post_init__(self) -> None:
        if not all(0 <= b <= 0xFF for b in (self.cla, self.ins, self.p1, self.p2)):
            raise ValueError("APDU header bytes must be 0..255")
        if len(self.data) > 255:
            raise ValueError("extended APDUs are not supported (data longer than 255 bytes)")
        if self.le is not None and not 1 <= self.le <= 256:
            raise ValueError(f"Le must be 1..256, not {self.le}")

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        if len(raw) < 4:
            raise ValueError(f"an APDU has at least 4 bytes, got {len(raw)}")
        header = (raw[0], raw[1], raw[2], raw[3])
        body = raw[4:]
        if not body:
            return cls(*header)
        if len(body) == 1:
            return cls(*header, le=body[0] or 256)
        lc = body[0]
        if lc == 0:
            raise ValueError("extended APDUs are not supported (Lc = 00)")
        if len(body) == 1 + lc:
            return cls(*header, data=bytes(body[1:]))
        if len(body) == 2 + lc:
            return cls(*header, data=bytes(body[1:-1]), le=body[-1] or 256)
        raise ValueError(f"APDU length {len(raw)} does not match Lc {lc}")

    def encode(self) -> bytes:
        out = bytearray((self.cla, self.ins, self.p1, self.p2))
        if self.data:
            out += bytes((len(self.data),)) + self.data
        if self.le is not None:
            out.append(self.le & 0xFF)  # 256 is sent as 00
        return bytes(out)

    def with_le(self, le: int) -> CommandApdu:
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, le)


@dataclass(frozen=True)
class ResponseApdu:
    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        if not raw:  # vpcd passes a card that left mid-command as an empty "success"
            raise PcscError(
                "no_answer", READ_FAILED_KEY, "empty answer: card taken out mid-command?"
            )
        if len(raw) < 2:
            raise PcscError(
                "bad_response", READ_FAILED_KEY, f"answer of {len(raw)} byte(s) has no status word"
            )
        return cls(bytes(raw[:-2]), (raw[-2] << 8) | raw[-1])

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


# Stable codes and plain meanings of the ISO 7816-4 status words a terminal meets.
SW_MEANINGS: dict[int, tuple[str, str]] = {
    0x9000: ("ok", "success"),
    0x6281: ("data_corrupted", "part of the returned data may be corrupted"),
    0x6282: ("end_of_data", "end of data reached before Le bytes"),
    0x6283: ("file_invalidated", "selected file invalidated"),
    0x6400: ("execution_error", "execution error, memory unchanged"),
    0x6581: ("memory_failure", "memory failure"),
    0x6700: ("wrong_length", "wrong length"),
    0x6881: ("channel_not_supported", "logical channel not supported"),
    0x6882: ("secure_messaging_not_supported", "secure messaging not supported"),
    0x6982: ("security_not_satisfied", "security status not satisfied"),
    0x6983: ("auth_blocked", "authentication method blocked"),
    0x6984: ("reference_data_unusable", "reference data not usable"),
    0x6985: ("conditions_not_satisfied", "conditions of use not satisfied"),
    0x6986: ("command_not_allowed", "command not allowed (no current EF)"),
    0x6A80: ("wrong_data", "incorrect parameters in the data field"),
    0x6A81: ("function_not_supported", "function not supported"),
    0x6A82: ("not_found", "file or application not found"),
    0x6A83: ("record_not_found", "record not found"),
    0x6A84: ("no_space", "not enough memory space in the file"),
    0x6A86: ("wrong_p1p2", "incorrect parameters P1-P2"),
    0x6A88: ("data_not_found", "referenced data not found"),
    0x6B00: ("wrong_p1p2", "wrong parameters P1-P2"),
    0x6D00: ("ins_not_supported", "instruction not supported"),
    0x6E00: ("cla_not_supported", "class not supported"),
    0x6F00: ("no_diagnosis", "no precise diagnosis"),
}
_SW1_MEANINGS: dict[int, tuple[str, str]] = {
    0x62: ("warning", "warning, memory unchanged"),
    0x63: ("warning", "warning, memory changed"),
    0x64: ("execution_error", "execution error, memory unchanged"),
    0x65: ("execution_error", "execution error, memory changed"),
    0x67: ("wrong_length", "wrong length"),
    0x68: ("function_not_supported", "functions in CLA not supported"),
    0x69: ("command_not_allowed", "command not allowed"),
    0x6A: ("wrong_parameters", "wrong parameters"),
}


def sw_meaning(sw: int) -> tuple[str, str]:
    """(stable code, plain meaning) of a status word."""
    if sw in SW_MEANINGS:
        return SW_MEANINGS[sw]
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return "verification_failed", f"verification failed, {sw2 & 0x0F} tries left"
    if sw1 == 0x61:
        return "more_data", f"{sw2 or 256} more bytes available"
    if sw1 == 0x6C:
        return "wrong_le", f"wrong Le, the card has {sw2 or 256} bytes"
    return _SW1_MEANINGS.get(sw1, ("unknown_status", "unknown status word"))


Exchange = Callable[[bytes], bytes]


def _get_response_cla(cla: int) -> int:
    # GET RESPONSE is an interindustry command on the same logical channel as the command.
    if cla & 0x80:
        return 0x00
    if cla & 0x40:
        return 0x40 | (cla & 0x0F)
    return cla & 0x03


def _exchange_fixing_le(exchange: Exchange, command: CommandApdu) -> ResponseApdu:
    response = ResponseApdu.parse(exchange(command.encode()))
    if response.sw1 == 0x6C:  # wrong Le: send the same command again with the Le the card named
        response = ResponseApdu.parse(exchange(command.with_le(response.sw2 or 256).encode()))
    return response


def transmit(exchange: Exchange, apdu: bytes, *, check: bool = True) -> ResponseApdu:
    """Send *apdu* through *exchange* with ISO 7816 status-word handling: 6Cxx resends with the
    right Le, 61xx collects the rest with GET RESPONSE. With *check*, any final status but 9000
    raises StatusWordError."""
    try:
        command = CommandApdu.parse(apdu)
    except ValueError as exc:
        raise PcscError("bad_apdu", READ_FAILED_KEY, str(exc)) from exc
    response = _exchange_fixing_le(exchange, command)
    data = bytearray(response.data)
    rounds = 0
    while response.sw1 == 0x61:
        rounds += 1
        if rounds > MAX_RESPONSE_CHAIN:
            raise PcscError(
                "bad_response", READ_FAILED_KEY, f"more than {MAX_RESPONSE_CHAIN} GET RESPONSEs"
            )
        get = CommandApdu(_get_response_cla(command.cla), 0xC0, 0, 0, le=response.sw2 or 256)
        response = _exchange_fixing_le(exchange, get)
        data += response.data
    result = ResponseApdu(bytes(data), response.sw)
    if check and not result.ok:
        raise StatusWordError(result.sw, f"{command.cla:02X} {command.ins:02X}")
    return result


GET_UID = bytes.fromhex("FFCA000000")  # PC/SC part 3 GET DATA: the card's UID


def read_uid(exchange: Exchange) -> bytes | None:
    """The card's UID, or None when the card (or reader) has none to give."""
    response = transmit(exchange, GET_UID, check=False)
    if response.ok and response.data:
        return response.data
    log.info("card gave no UID: %s", sw_meaning(response.sw)[1])
    return None
