"""ID card facts: the ISO 7064 MOD 11-2 check character and the redacted record."""

from __future__ import annotations

import pytest

from contracts.id_number import id_check_char, is_valid_id_number
from drivers.sim_cards import SAMPLE_CARDS


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("11010519491231002X", True),  # the standard's worked example
        ("11010519491231002x", True),
        ("110105194912310021", False),
        ("440524188001010014", True),
        ("44052418800101001", False),  # 17 characters
        ("4405241880010100AB", False),
        ("", False),
    ],
)
def test_check_character(number: str, valid: bool) -> None:
    assert is_valid_id_number(number) is valid


def test_check_char_needs_17_digits() -> None:
    with pytest.raises(ValueError):
        id_check_char("1234")


def test_sample_cards_are_valid_and_json_has_the_contract_fields() -> None:
    for card in SAMPLE_CARDS:
        assert is_valid_id_number(card.id_number)
    fields = SAMPLE_CARDS[0].as_json()
    assert list(fields) == [
        "name", "sex", "nation", "birth_date", "address", "id_number", "authority",
        "valid_from", "valid_to", "photo_sha256",
    ]  # fmt: skip
    assert fields["sex"] == "女" and fields["nation"] == "汉" and fields["valid_to"] == "长期"
    assert fields["birth_date"] == "1948-03-12"
