"""Redaction against seeded PII and near-misses that must survive untouched."""

from __future__ import annotations


import pytest

from staff.privacy.redaction import iban_valid, luhn_valid, redact, redact_json

# (text, expected) pairs: every PII form we promise to catch.
PII = [
    ("write to jane.doe+orders@example.co.uk today", "write to [email] today"),
    ("JOHN_SMITH@Mail.Example.COM", "[email]"),
    ("visa 4111 1111 1111 1111 please", "visa [card] please"),
    ("4111-1111-1111-1111", "[card]"),
    ("mastercard 5555555555554444", "mastercard [card]"),
    ("amex 3782 822463 10005", "amex [card]"),
    ("19 digits 6011 0009 9013 9424 123", None),  # decided by Luhn below
    ("IBAN DE89 3704 0044 0532 0130 00 thanks", "IBAN [iban] thanks"),
    ("DE89370400440532013000", "[iban]"),
    ("GB82 WEST 1234 5698 7654 32", "[iban]"),
    ("NL91ABNA0417164300.", "[iban]."),
    ("pay to FR14 2004 1010 0505 0001 3M02 606 OK", "pay to [iban] OK"),
    ("call +49 30 1234567", "call [phone]"),
    ("+44 20 7946 0958", "[phone]"),
    ("+1 (555) 123-4567", "[phone]"),
    ("+33 (0)6 12 34 56 78", "[phone]"),
    ("0044 20 7946 0958", "[phone]"),
    ("(555) 123-4567", "[phone]"),
    ("555-123-4567 or 555.123.4567", "[phone] or [phone]"),
    ("030 1234567", "[phone]"),
    ("06 12 34 56 78", "[phone]"),
    ("0171/1234567", "[phone]"),
    ("07700 900123", "[phone]"),
    # Found by the first reliability probe (issue 15) and the generated corpus.
    ("write to jose.garcía@correo.es please", "write to [email] please"),
    ("müller@bücher.de", "[email]"),
    ("IBAN DE89-3704-0044-0532-0130-00 thanks", "IBAN [iban] thanks"),
    ("call 959-679-7114x71049", "call [phone]"),
    ("(020) 7946 0958", "[phone]"),
    ("call me on 3500268466", "call me on [phone]"),
    ("3500268466 è il mio cellulare", "[phone] è il mio cellulare"),
    ("card 6763 9819 8462", "card [card]"),
    ("ship to 1777 Kramer Court, Johnsonfurt, NE 80119 by Friday", "ship to [address] by Friday"),
    ("Flat 37, Bennett Mall, East Harrietport, N8 8HN", "[address]"),
    ("an Drubinstraße 47-26, 06690 Groß-Gerau bis Freitag", "an [address] bis Freitag"),
    ("au 5, avenue Samson, 57583 Lacroix merci", "au [address] merci"),
    ("a Via Roma 12, 00184 Roma (RM)", "a [address]"),
    ("Calle Mayor 5, Madrid, 28013", "[address]"),
    ("Kerkstraat 12, 1017 AB Amsterdam", "[address]"),
    ("J'ai déménagé au boulevard Riou", "J'ai déménagé au [address]"),
]

# Near-misses: look like PII, are not, must come back unchanged.
NEAR_MISSES = [
    "card 4111 1111 1111 1112",  # Luhn fails
    "4111-1111-1111-1121",  # Luhn fails
    "DE89 3704 0044 0532 0130 01",  # IBAN check digits wrong
    "DE88370400440532013000",  # IBAN check digits wrong
    "GB82 WEST 1234 5698 7654",  # too short for GB
    "order BC12345678",
    "order number AB12345678901",
    "ticket HL-1001 and hl 1002",
    "on 2024-01-15, 15.01.2024 or 01/02/2024",
    "costs 1,299.00 EUR, 12.99 or 1.234.567,00",
    "code 12345, PIN 0000, room 101",
    "5551234567",  # ten bare digits: an order or tracking number as likely as a phone
    "version 1.2.3.4 at 10:30",
    "user@localhost",  # no top-level domain
    "no digits at all here",
    "order 521-7322626-7353103",  # Luhn-valid 17 digits, but not grouped like a card
    "my phone order 123456789",  # a phone word, then an order number
    "I bought 3 Blue Shirts for 12.99",
    "code 12345, PIN 0000, 10000 Points",
    "Lieferung 5 bis Freitag",
    "",
]


@pytest.mark.parametrize(("text", "expected"), [p for p in PII if p[1] is not None])
def test_pii_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_card_depends_on_luhn_alone() -> None:
    valid = "6011 0009 9013 9424"
    assert luhn_valid(valid.replace(" ", ""))
    assert redact(f"card {valid}") == "card [card]"
    # Change one digit: same shape, checksum fails, text untouched.
    broken = valid[:-1] + "5"
    assert not luhn_valid(broken.replace(" ", ""))
    assert redact(f"card {broken}") == f"card {broken}"


def test_checksums() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert iban_valid("DE89 3704 0044 0532 0130 00")
    assert not iban_valid("DE89 3704 0044 0532 0130 01")
    assert not iban_valid("XX00")


def test_several_kinds_in_one_message() -> None:
    text = (
        "I'm jane@example.com, +49 170 1234567, card 4111111111111111, "
        "IBAN DE89370400440532013000, order BC12345678, ticket HL-1001, paid 49.99 on 2024-03-01"
    )
    assert redact(text) == (
        "I'm [email], [phone], card [card], IBAN [iban], order BC12345678, "
        "ticket HL-1001, paid 49.99 on 2024-03-01"
    )


def test_redact_json_walks_nested_values_and_keeps_keys() -> None:
    trail = {
        "faq_id": "refund_policy",
        "score": 0.91,
        "top3": [{"faq_id": "x", "text": "mail jane@example.com"}],
        "contact": ["+44 20 7946 0958", None, True],
        "jane@example.com": "key kept",
    }
    assert redact_json(trail) == {
        "faq_id": "refund_policy",
        "score": 0.91,
        "top3": [{"faq_id": "x", "text": "mail [email]"}],
        "contact": ["[phone]", None, True],
        "jane@example.com": "key kept",
    }
    assert redact_json(None) is None

