"""A printed certificate's reference and its holder as the paper shows it: the terminal mints the
reference and records it through the outbox; the platform checks it on its public verification
page (README "Certificates and their verification").

A reference is ``C``, 24 Crockford base-32 digits (120 random bits: nobody finds a valid one by
trying) and 2 check digits (a hash of the rest), so a mistyped or altered reference is told apart
from an unknown one before any lookup. Read leniently (lower case, hyphens, spaces, O for 0, I and L
for 1), stored and printed in its canonical form.
"""

from __future__ import annotations

import hashlib
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
BODY_DIGITS = 24
CHECK_DIGITS = 2
LENGTH = 1 + BODY_DIGITS + CHECK_DIGITS
REFERENCE_PATTERN = rf"^C[{ALPHABET}]{{{BODY_DIGITS + CHECK_DIGITS}}}$"
_DOMAIN = b"kiosk/certificate-reference/v1\x00"
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})

# The holder as the certificate prints it (drivers/idcard.py masks it): the first character of
# the name and, from three characters on, the last, stars between; an ID number's region (4) and
# last four. A value of this shape cannot carry a whole name or ID number.
MASKED_NAME_PATTERN = r"^[^*\s](\*{1,30}[^*\s]?)?$"
MASKED_ID_PATTERN = r"^[0-9]{4}\*{7,10}[0-9]{3}[0-9X]$"


def _check(body: str) -> str:
    digest = hashlib.sha256(_DOMAIN + body.encode("ascii")).digest()
    value = int.from_bytes(digest[:2], "big") >> (16 - 5 * CHECK_DIGITS)
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(CHECK_DIGITS)))


def new_reference() -> str:
    """A fresh reference: C, 24 random digits, 2 check digits."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_DIGITS))
    return f"C{body}{_check(body)}"


def normalise_reference(text: str) -> str | None:
    """*text* as a canonical reference, or None when it is not one (wrong shape, a digit outside
    the alphabet, or check digits that do not match: mistyped or altered)."""
    if len(text) > 4 * LENGTH:
        return None
    compact = re.sub(r"[\s-]", "", text).upper().translate(_ALIASES)
    if not re.fullmatch(REFERENCE_PATTERN, compact):
        return None
    body, check = compact[1 : 1 + BODY_DIGITS], compact[1 + BODY_DIGITS :]
    return compact if _check(body) == check else None


def verify_link(base_url: str, reference: str) -> str:
    """What the certificate's QR code carries: the verification page of *reference* under
    *base_url* (``https://verify.example.gov.cn`` -> ``https://verify.example.gov.cn/v/C...``)."""
    return f"{base_url.rstrip('/')}/v/{reference}"
