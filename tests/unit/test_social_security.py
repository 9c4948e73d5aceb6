"""Reading a social-security card's holder over APDUs, against the virtual card's answers (the
same code the simulator puts behind pcscd): a holder, another kind of card, broken records."""

from __future__ import annotations

from datetime import date

import pytest

from drivers.apdu import PcscError
from drivers.sim_cards import SAMPLE_CARDS
from drivers.sim_vpcd import CardApplication
from drivers.social_security import Holder, read_holder

RESIDENT = SAMPLE_CARDS[1]


def test_a_social_security_card_gives_its_holder() -> None:
    card = CardApplication(holder=(RESIDENT.id_number, RESIDENT.name))
    holder = read_holder(card.respond)
    assert holder == Holder(RESIDENT.id_number, RESIDENT.name)
    assert RESIDENT.name not in repr(holder) and RESIDENT.id_number not in repr(holder)
    identity = holder.as_id_card()
    assert identity.id_number == RESIDENT.id_number and identity.name == RESIDENT.name
    assert identity.birth_date == RESIDENT.birth_date and identity.sex == RESIDENT.sex
    assert not identity.is_expired(date(2099, 1, 1))


def test_another_kind_of_card_is_not_an_error() -> None:
    assert read_holder(CardApplication().respond) is None


@pytest.mark.parametrize(
    "answer",
    [
        bytes.fromhex("0805") + b"12345" + bytes.fromhex("9000"),  # not an ID number
        bytes.fromhex("09FF") + b"x" + bytes.fromhex("9000"),  # length beyond the data
        bytes.fromhex("6A83"),  # no such record
        bytes.fromhex("00"),  # garbage, no status word
    ],
)
def test_broken_records_are_a_clear_read_failure(answer: bytes) -> None:
    card = CardApplication(holder=(RESIDENT.id_number, RESIDENT.name))

    def exchange(apdu: bytes) -> bytes:
        return answer if apdu[1] == 0xB2 else card.respond(apdu)

    with pytest.raises(PcscError) as caught:
        read_holder(exchange)
    assert caught.value.message_key == "card.read_failed"
