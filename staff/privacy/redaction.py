"""Replace personal data in free text with tokens: ``[email]``, ``[iban]``, ``[card]``, ``[phone]``.

Built for what supervisors read and export, where a missed number is worse than a
masked one but masking order numbers, ticket numbers, dates and prices would make the
transcripts useless. So the shapes are matched by precompiled regexes and the numbers
with a checksum (cards: Luhn; IBANs: ISO 13616 mod-97) are replaced only when the
checksum passes. Limits (also in docs/privacy.md): names, street addresses and
free-form identifiers are not detected; a phone number written without any separator
or prefix (``5551234567``) is left alone because it cannot be told from an order or
tracking number; lower-case IBANs are not matched.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL_TOKEN = "[email]"
PHONE_TOKEN = "[phone]"
CARD_TOKEN = "[card]"
IBAN_TOKEN = "[iban]"

# Characters that glue a number to a neighbouring identifier ("HL-1001", "BC12345678",
# "x_0612345678"): a candidate touching one of them is part of something else.
_EDGE_BEFORE = r"(?<![\w+\-/.@])"
_EDGE_AFTER = r"(?![\w\-/@]|[.,]\d)"

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)

# Country code, check digits, then the BBAN printed in groups of four (or not at all).
_IBAN = re.compile(r"(?<![\w-])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w-])")

# ISO 13616 registry lengths; an unknown country is accepted at 15-34 characters so a
# newly registered one is still caught (the mod-97 check keeps false positives ~1%).
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27,
    "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

# 13-19 digits, optionally split by single spaces or dashes. A leading "+" makes it a
# phone number, so it is excluded here.
_CARD = re.compile(_EDGE_BEFORE + r"\d(?:[ -]?\d){12,18}" + _EDGE_AFTER)

_SEP = r"[ .\-/]?"
_PHONE = re.compile(
    "|".join(
        (
            # International: +CC or 00CC, optional (0) or (area), then digit groups.
            r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}" + _SEP + r"(?:\(0\)" + _SEP + r")?"
            r"(?:\(\d{1,4}\)" + _SEP + r")?\d{1,5}(?:" + _SEP + r"\d{1,5}){1,5}(?![\w\-/@]|[.,]\d)",
            # US/Canada national: (555) 123-4567, 555-123-4567, 555.123.4567 (separators
            # required: ten bare digits are as likely an order number).
            _EDGE_BEFORE + r"(?:\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}" + _EDGE_AFTER,
            # European national, trunk prefix 0: 030 1234567, 06 12 34 56 78,
            # 020 7946 0958, 0171/1234567, 07700900123.
            _EDGE_BEFORE + r"0\d{1,4}(?:" + _SEP + r"\d{2,8}){1,4}" + _EDGE_AFTER,
        )
    )
)

PHONE_DIGITS = (9, 15)  # E.164 allows 15; national numbers without trunk 0 have >= 8.


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by every payment card scheme."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """ISO 13616: registered length for the country and mod-97 of the rearranged number == 1."""
    iban = candidate.replace(" ", "").upper()
    expected = _IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    if expected is None and not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    # Letters count as 10..35; int() over the joined string is exact and fast enough.
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def _valid_iban_prefix(text: str) -> str | None:
    """The longest group-aligned prefix of ``text`` that is a valid IBAN, if any.

    The greedy match may have swallowed a following upper-case word ("... 00 OK").
    """
    if iban_valid(text):
        return text
    parts = text.split(" ")
    for end in range(len(parts) - 1, 1, -1):
        head = " ".join(parts[:end])
        if iban_valid(head):
            return head
    return None


def _phone_digits_ok(text: str) -> bool:
    low, high = PHONE_DIGITS
    return low <= sum(char.isdigit() for char in text) <= high


def _replace_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    return PHONE_TOKEN if _phone_digits_ok(text) else text


# Private-use code points stand in for checksum-failed candidates while the later passes
# run: "DE89 3704 0044 0532 0130 01" is a mistyped IBAN and "6011 0009 9013 9425" a
# mistyped card; their digit groups must not come out as "DE89 [card]" or "6011 [phone]".
_HOLD_BASE = 0xE000
_HOLD_LIMIT = 0x1000
_HELD = re.compile("[\ue000-\uefff]")


class _Held:
    """Near-misses taken out of the text during one ``redact`` call, put back at the end."""

    def __init__(self, text: str) -> None:
        self.items: list[str] = []
        # Text already using those code points cannot be held safely (rare: they are
        # private-use); near-misses then simply stay in place.
        self.enabled = _HELD.search(text) is None

    def hold(self, candidate: str) -> str:
        if not self.enabled or len(self.items) >= _HOLD_LIMIT:
            return candidate
        self.items.append(candidate)
        return chr(_HOLD_BASE + len(self.items) - 1)

    def restore(self, text: str) -> str:
        if not self.items:
            return text
        return _HELD.sub(lambda m: self.items[ord(m.group(0)) - _HOLD_BASE], text)


def redact(text: str) -> str:
    """``text`` with emails, IBANs, card numbers and phone numbers replaced by tokens."""
    if not text:
        return text
    has_at = "@" in text
    if not has_at and not any(char.isdigit() for char in text):
        return text  # the common case (most chat lines) costs one scan
    # Emails first: they may contain digits that would otherwise look like phones.
    if has_at:
        text = _EMAIL.sub(EMAIL_TOKEN, text)
    held = _Held(text)

    def replace_iban(match: re.Match[str]) -> str:
        candidate = match.group(0)
        valid = _valid_iban_prefix(candidate)
        if valid is None:
            return held.hold(candidate)
        return IBAN_TOKEN + candidate[len(valid):]

    def replace_card(match: re.Match[str]) -> str:
        candidate = match.group(0)
        digits = candidate.replace(" ", "").replace("-", "")
        if luhn_valid(digits):
            return CARD_TOKEN
        # Not a card, but maybe a phone as a whole ("0044 20 7946 0958"); only a phone
        # hidden in part of it ("6011 [phone]") is what holding prevents.
        if _PHONE.fullmatch(candidate) and _phone_digits_ok(candidate):
            return PHONE_TOKEN
        return held.hold(candidate)

    # IBANs, then cards, then phones: an IBAN's digits could pass for a card or a phone,
    # and a card is the more sensitive label of the two.
    text = _IBAN.sub(replace_iban, text)
    text = _CARD.sub(replace_card, text)
    text = _PHONE.sub(_replace_phone, text)
    text = held.restore(text)
    return text


def redact_json(value: Any) -> Any:
    """A copy of a JSON-like value (FAQ trail, ticket details) with every string redacted.

    Keys are kept as they are: they are field names written by our code, not customer text.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_json(item) for item in value]
    return value
