"""The resident ID card as data, and the facts needed to check it (GA/T 490, GB/T 2261.1, 3304)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SEX_NAMES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}

# GB/T 3304 codes for the nationalities residents most often carry; the rest print as their code.
NATION_NAMES = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝",
    "08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白",
    "15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳",
}  # fmt: skip


def masked_name(name: str) -> str:
    """张*英, 李*: the first and (for three or more characters) the last, stars between."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def masked_id_number(number: str) -> str:
    """1101**********0022: the region and the last four, as receipts in China print them."""
    return number[:4] + "*" * max(0, len(number) - 8) + number[-4:] if len(number) > 8 else "****"


@dataclass(frozen=True, repr=False)
class IdCard:
    """One card's decoded record. ``repr`` is redacted so a stray log line leaks nothing."""

    name: str
    sex: str  # GB/T 2261.1 code
    nation: str  # GB/T 3304 code
    birth_date: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_to: date | None  # None: 长期 (no expiry)
    photo_sha256: str

    def __repr__(self) -> str:
        return "IdCard(<redacted>)"

    @property
    def sex_name(self) -> str:
        return SEX_NAMES.get(self.sex, self.sex)

    @property
    def nation_name(self) -> str:
        return NATION_NAMES.get(self.nation, self.nation)

    def is_expired(self, today: date) -> bool:
        return self.valid_to is not None and self.valid_to < today

    def as_json(self) -> dict[str, str]:
        """The field set of ``kiosk diag read-card --json`` (DESIGN.md contract)."""
        return {
            "name": self.name,
            "sex": self.sex_name,
            "nation": self.nation_name,
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
            "authority": self.authority,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else "长期",
            "photo_sha256": self.photo_sha256,
        }
