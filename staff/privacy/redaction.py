"""Replace personal data in free text: ``[email]``, ``[iban]``, ``[card]``, ``[phone]``, ``[address]``.

Built for what supervisors read and export, where a missed number is worse than a
masked one but masking order numbers, ticket numbers, dates and prices would make the
transcripts useless. So the shapes are matched by precompiled regexes and the numbers
with a checksum (cards: Luhn; IBANs: ISO 13616 mod-97) are replaced only when the
checksum passes. Postal addresses are found by their anchors: a street with a house
number (per-language street words: "12 Main Street", "Hauptstraße 5", "Via Roma 12",
"12, rue de la Paix"), or a postcode with its town ("10115 Berlin", "Springfield, IL
62704", "SW1A 1AA", "1017 AB Amsterdam"), extended backwards over the street, unit and
town lines written before it. Limits (also in docs/privacy.md): names and free-form
identifiers are not detected; a phone number written without any separator or prefix
(``5551234567``) is masked only after a phone word ("call", "Handy", "téléfono", ...)
because it cannot otherwise be told from an order or tracking number; lower-case IBANs
are not matched.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL_TOKEN = "[email]"
PHONE_TOKEN = "[phone]"
CARD_TOKEN = "[card]"
IBAN_TOKEN = "[iban]"
ADDRESS_TOKEN = "[address]"

# Characters that glue a number to a neighbouring identifier ("HL-1001", "BC12345678",
# "x_0612345678"): a candidate touching one of them is part of something else.
_EDGE_BEFORE = r"(?<![\w+\-/.@])"
_EDGE_AFTER = r"(?![\w\-/@]|[.,]\d)"

# Local part and domain may hold any letter (RFC 6531 addresses: "jose.garcía@correo.es",
# "müller@bücher.de"); \w is Unicode-aware for str patterns.
_EMAIL = re.compile(
    r"(?<![\w.%+'-])[^\W_][\w.%+'-]*@[^\W_](?:[\w-]*[^\W_])?"
    r"(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.[^\W\d_]{2,24}(?![\w-])"
)

# Country code, check digits, then the BBAN printed in groups of four (or not at all),
# split by spaces or dashes ("DE89-3704-0044-0532-0130-00").
_IBAN = re.compile(r"(?<![\w-])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?(?![\w-])")
_IBAN_SEPARATORS = re.compile(r"[ -]")

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
# Maestro also issues 12-digit cards: caught only when written in three groups of four
# (twelve bare digits are too often an order number).
# Written in groups, a card starts with a group of four ("4111 1111 1111 1111", Amex
# "3782 822463 10005"); "521-7322626-7353103" is an order number.
_CARD = re.compile(
    _EDGE_BEFORE + r"(?:\d{13,19}|\d{4}(?:[ -]?\d){9,15}|\d{4}([ -])\d{4}\1\d{4})" + _EDGE_AFTER
)

_SEP = r"[ .\-/]?"
# An extension after a number ("555-123-4567 x123", "ext. 12"): part of the phone.
_EXTENSION = r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?"
_PHONE = re.compile(
    "(?:"
    + "|".join(
        (
            # International: +CC or 00CC, optional (0) or (area), then digit groups.
            r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}" + _SEP + r"(?:\(0\)" + _SEP + r")?"
            r"(?:\(\d{1,4}\)" + _SEP + r")?\d{1,5}(?:" + _SEP + r"\d{1,5}){1,5}",
            # US/Canada national: (555) 123-4567, (555)123-4567, 555-123-4567, 555.123.4567
            # (separators required: ten bare digits are as likely an order number).
            _EDGE_BEFORE + r"(?:\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}",
            # European national, trunk prefix 0: 030 1234567, 06 12 34 56 78,
            # 020 7946 0958, 0171/1234567, 07700900123, and the area code in brackets:
            # (020) 7946 0958, (0114)-710497.
            _EDGE_BEFORE + r"(?:0\d{1,4}|\(0\d{1,4}\))(?:" + _SEP + r"\d{2,8}){1,4}",
        )
    )
    + ")" + _EXTENSION + _EDGE_AFTER
)
_EXTENSION_TAIL = re.compile(r"\s?(?:x|ext\.?|extension)\s?\d{1,6}$")

# Bare digits ("3500268466", "5492996228") are a phone only where the customer says so:
# a phone word shortly before, with no order-like word in between (the second test keeps
# "my phone order 123456789" an order). Words in the languages of our customers.
_PHONE_WORDS = (
    r"call|phone|tel|telephone|mobile|cell|cellphone|ring|text|sms|whats ?app|reach|"
    r"telefon|handy|mobil|rufnummer|anrufen|"
    r"t[ée]l[ée]phone|portable|appeler|appelez|"
    r"tel[ée]fono|m[óo]vil|llamar|llame|ll[áa]meme|"
    r"telefono|cellulare|chiamare|chiamami|"
    r"telefoon|mobiel|bellen|bel"
)
_ORDER_WORDS = (
    r"order|tracking|ticket|invoice|parcel|package|reference|ref|account|customer|"
    r"bestell\w*|rechnung|sendung|kunden\w*|konto|commande|facture|colis|compte|"
    r"pedido|factura|paquete|cuenta|ordine|fattura|pacco|conto|bestelling|factuur|pakket"
)
_MY_NUMBER = (
    r"(?:my|mio|mi|mon|meine|mijn)\s(?:phone\s|mobile\s|cell\s)?(?:number|numero|número|numéro|nummer)|"
    r"chiamatemi|ll[áa]menme|appelez-moi|rufen sie mich|bel me"
)
_BARE_NUMBER = r"(?P<number>(?<![\w+\-/.])\+?\d{9,12})(?![\w\-/@]|[.,]\d)"
_BARE_PHONE = re.compile(
    r"(?i:\b(?:" + _MY_NUMBER + "|" + _PHONE_WORDS + r")\b)(?P<gap>[^\d\n]{0,30}?)" + _BARE_NUMBER
    + r"|" + _BARE_NUMBER.replace("number", "number_before")
    + r"(?P<gap_after>[^\d\n]{0,20}?)(?i:\b(?:" + _PHONE_WORDS + r")\b)"
)
# Twelve bare digits after a card word, checked with Luhn like every card.
_CARD_WORDS = r"card|carte|carta|karte|kartennummer|kaart|tarjeta|visa|mastercard|maestro|amex"
_BARE_CARD = re.compile(
    r"(?i:\b(?:" + _CARD_WORDS + r")\b)(?P<gap>[^\d\n]{0,30}?)"
    r"(?P<number>(?<![\w+\-/.])\d{12})(?![\w\-/@]|[.,]\d)"
)
_NINE_DIGITS = re.compile(r"\d{9}")
_ORDER_WORD = re.compile(r"(?i:\b(?:" + _ORDER_WORDS + r")\b)")

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
    iban = _IBAN_SEPARATORS.sub("", candidate).upper()
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
    cuts = [match.start() for match in _IBAN_SEPARATORS.finditer(text)]
    for cut in reversed(cuts[1:]):
        if iban_valid(text[:cut]):
            return text[:cut]
    return None


def _phone_digits_ok(text: str) -> bool:
    low, high = PHONE_DIGITS
    text = _EXTENSION_TAIL.sub("", text)
    return low <= sum(char.isdigit() for char in text) <= high


def _replace_bare_phone(match: re.Match[str]) -> str:
    whole = match.group(0)
    if match.group("number") is not None:
        if _ORDER_WORD.search(match.group("gap")):
            return whole
        return whole[:match.start("number") - match.start()] + PHONE_TOKEN
    if _ORDER_WORD.search(match.group("gap_after")):
        return whole
    return PHONE_TOKEN + whole[match.end("number_before") - match.start():]


def _replace_bare_card(match: re.Match[str]) -> str:
    whole = match.group(0)
    if not luhn_valid(match.group("number")):
        return whole
    return whole[:match.start("number") - match.start()] + CARD_TOKEN


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
        # The common case (most chat lines) costs one scan, plus one for the street words
        # that mark an address without any number ("au boulevard Riou").
        return _redact_street_names(text) if _FRENCH_HINT.search(text) else text
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
    if _NINE_DIGITS.search(text):  # the contextual passes only matter for bare runs
        text = _BARE_PHONE.sub(_replace_bare_phone, text)
        text = _BARE_CARD.sub(_replace_bare_card, text)
    text = held.restore(text)
    return redact_addresses(text)


# -- postal addresses ----------------------------------------------------------------------
# Two kinds of anchor, each a shape no ordinary sentence has: a street name with its house
# number (street words per language), and a postcode with its town. From a postcode the
# match grows backwards over the lines written before it (street, flat, town), so
# "Flat 37, Bennett Mall, East Harrietport, N8 8HN" becomes one token.

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĢĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŘŚŞŠŢŤŪŮŰŲŹŻŽ"
_CAP_WORD = rf"(?:[{_UPPER}][\w'’]*(?:-[\w'’]+)*)"
# French "12 bis, rue ..." (but German "5 bis Freitag" means "until").
_HOUSE = (
    r"\d{1,5}[a-zA-Z]?(?:\s?[-/]\s?\d{1,5}[a-zA-Z]?)?"
    r"(?:\s?(?:bis|ter)(?=,|\s(?:rue|avenue|boulevard|chemin|impasse|allée|quai|place)\b))?"
)
_UNIT_WORDS = (
    r"Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Studio|Floor|Fl\.?|Room|Rm\.?|"
    r"Piso|Puerta|Portal|Escalera|Esc\.?|Bajo|Appartamento|App\.?|Interno|Int\.?|Piano|Scala|"
    r"Wohnung|Whg\.?|Etage|Stock|Bus|Boîte|Bâtiment|Bât\.?|Appartement|Appt\.?"
)
_UNIT = rf"(?:{_UNIT_WORDS})\s?\d{{1,4}}[a-zA-Z]?"
_UNIT_TAIL = rf"(?:,?\s{_UNIT})?"
# English: house number, name, then a street word: "1777 Kramer Court", "12 Smith road".
_EN_STREET_WORDS = (
    r"Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Boulevard|Blvd|Way|"
    r"Terrace|Close|Crescent|Gardens?|Park|Square|Sq|Plaza|Parkways?|Circle|Cir|Trail|Highway|"
    r"Hwy|Hills?|View|Mall|Row|Walk|Grove|Green|Mews|Rise|Heights|Burgs?|Villes?|Forts?|Ports?|"
    r"Points?|Ridges?|Run|Loop|Pike|Path|Pass|Creek|Crossing|Harbors?|Haven|Islands?|Isle|"
    r"Junctions?|Keys?|Knolls?|Lakes?|Lights?|Manors?|Meadows?|Mills?|Mission|Motorway|Mounts?|"
    r"Mountains?|Orchard|Oval|Pines?|Plains?|Prairie|Ranch|Rapids?|Rest|Route|Shoals?|Shores?|"
    r"Springs?|Station|Stravenue|Streams?|Summit|Throughway|Trace|Track|Tunnel|Turnpike|"
    r"Underpass|Unions?|Valleys?|Viaducts?|Village|Villages|Vista|Wells?|Estates?|Expressway|"
    r"Extensions?|Falls|Ferry|Fields?|Flats?|Fords?|Forests?|Forge|Forges|Forks?|Freeway|"
    r"Gateway|Glens?|Brooks?|Bridges?|Branch|Bottom|Bluffs?|Bend|Beach|Bayou|Camp|Canyon|Cape|"
    r"Causeway|Centers?|Centre|Cliffs?|Club|Commons?|Corners?|Course|Coves?|Crest|Curve|Dale|"
    r"Dam|Divide|Arcade|Alley|Anex|Inlet|Lodge|Locks?|Neck|Overpass|Parks|Plaza|Radial|Ramp|"
    r"Squares|Stream|Trafficway|Trailer|Walks|Ways|Wall|Port|Hollow|Drives|Circles|Courts|"
    r"Crossroad|Grove|Groves|Harbor|Heights|Lane|Roads|Streets|Terrace|Parade|Quay|Wharf|"
    r"Embankment|Broadway|Esplanade|Promenade|Lands?|Bypass|Skyway|Spurs?|Rue|Passage|"
    r"Alley|Avenues|Boulevards|Brooks|Canyons|Freeways|Gardens|Lanes|Parkway|Places|Streets"
)
_EN_STREET = (
    rf"(?:{_UNIT},?\s(?:{_HOUSE}\s)?|{_HOUSE}\s)(?:{_CAP_WORD}\s){{1,3}}"
    rf"(?i:(?:{_EN_STREET_WORDS})\b)\.?{_UNIT_TAIL}"
)
# German and Dutch: one word ending in a street word, or a name and a separate one
# ("Hauptstraße 5", "Rico-Siering-Gasse 28", "Am Markt 3", "Kerkstraat 12").
_GERMANIC_ENDINGS = (
    r"straße|strasse|str\.|gasse|weg|platz|allee|ring|damm|ufer|chaussee|steig|pfad|markt|"
    r"hof|berg|graben|wall|stieg|zeile|kai|"
    r"straat|laan|plein|gracht|kade|singel|dijk|dreef|pad|steeg|baan|boulevard|park|"
    r"plantsoen|hof|veld|kanaal|wijk|haven|erf|hoek|dam|markt|singel|burg|oord"
)
_GERMANIC_STREET = (
    rf"(?:(?:Am|An der|Auf dem|Im|In der|Zum|Zur|Unter den|Alte|Alter|Neue|Neuer|Große|Kleine|"
    rf"{_CAP_WORD})\s)?[{_UPPER}][\w'’-]*?(?i:{_GERMANIC_ENDINGS})\s{_HOUSE}{_UNIT_TAIL}"
)
# French, Spanish, Italian: a street word first, then the name; the house number before
# ("12, rue de la Paix") or after ("Via Roma 12", "Calle Mayor, 5").
_ROMANCE_STREET_WORDS = (
    r"rue|avenue|av\.|boulevard|bd|chemin|impasse|allée|all[ée]e|quai|place|cours|passage|"
    r"square|voie|sentier|faubourg|route|"
    r"Calle|C\.|C/|Avenida|Avda\.|Paseo|Plaza|Camino|Carrera|Ronda|Travesía|Pasaje|Pasadizo|"
    r"Callejón|Cañada|Alameda|Glorieta|Urbanización|Rambla|Carretera|Acceso|Bajada|Cuesta|"
    r"Rotonda|Senda|Vial|Partida|Prolongación|Calleja|Ramal|Plazuela|Polígono|Escalinata|"
    r"Via|Vía|Viale|Piazza|Piazzale|Corso|Largo|Vicolo|Strada|Contrada|Borgo|Canale|Incrocio|"
    r"Stretto|Vico|Lungomare|Lungotevere|Traversa|Salita|Galleria"
)
_ROMANCE_PARTICLES = r"(?:de|del|de la|de las|de los|des|du|d'|d’|la|le|les|el|los|las|di|della|dei|degli|delle|dello|al|alla|y|e)"
_ROMANCE_NAME = rf"(?:\s(?:{_ROMANCE_PARTICLES}\s?)?{_CAP_WORD}){{1,5}}"
_ROMANCE_STREET_NAME = rf"(?:{_ROMANCE_STREET_WORDS}){_ROMANCE_NAME}"
# French street words are specific enough without a number ("au boulevard Riou").
_FRENCH_STREET_NAME = (
    rf"(?:rue|avenue|boulevard|chemin|impasse|allée|quai|faubourg){_ROMANCE_NAME}"
)
_ROMANCE_STREET = (
    rf"(?:{_HOUSE},?\s{_ROMANCE_STREET_NAME}|{_ROMANCE_STREET_NAME},?\s{_HOUSE}{_UNIT_TAIL}"
    rf"|{_FRENCH_STREET_NAME})"
)
_STREET = re.compile(rf"(?<![\w-])(?:{_EN_STREET}|{_GERMANIC_STREET}|{_ROMANCE_STREET})(?![\w])")
# The same three shapes one by one, each run only when a cheap scan finds what it needs
# (a number after a word, a street word): most lines with digits are order numbers,
# dates and prices, and trying every shape at every position cost 80 µs a line.
_STREET_SHAPES = (
    # Every English shape has a number, maybe a comma, a space, then a capital
    # ("1777 Kramer", "Flat 9, Harris Mews", "Studio 21B Bowen Route").
    (re.compile(r"\d[a-zA-Z]?,?\s[" + _UPPER + r"]"),
     re.compile(rf"(?<![\w-])(?=[\d{_UPPER}])(?:{_EN_STREET})(?![\w])")),
    (re.compile(r"[^\W\d_.]\.?\s\d"),
     re.compile(rf"(?<![\w-])(?=[{_UPPER}])(?:{_GERMANIC_STREET})(?![\w])")),
    (re.compile(rf"(?<![\w-])(?:{_ROMANCE_STREET_WORDS})\s"),
     re.compile(rf"(?<![\w-])(?:{_ROMANCE_STREET})(?![\w])")),
)

# A town: capitalised words, joined by hyphens or short particles ("Bad Salzungen",
# "Da Costa-sur-Mer", "Cornedo All'Isarco (BZ)", "'s-Heer Hendrikskinderen").
# A town's first word has a lower-case letter ("PIN", "EUR" are not towns) and is not a
# currency or a word that follows a count ("12345 Euro", "10000 Points").
_NOT_TOWN = (
    r"(?!(?:Euros?|Dollars?|Pounds?|Pfund|Franken|Francs?|Yen|Points?|Punkte|Items?|Stück|"
    r"Units?|Pieces?|Pcs|Bytes?|Kb|Mb|Gb|Km|Miles?|Meilen|Minutes?|Minuten|Hours?|Stunden|"
    r"Days?|Tage|Mal|Times?|Thanks?|Danke|Merci|Gracias|Grazie|Bedankt|Please|Bitte)\b)"
)
_TOWN_WORD = rf"{_NOT_TOWN}(?=[\w'’-]*[a-zß-ÿ]){_CAP_WORD}"
_TOWN = (
    rf"(?:'s-)?{_TOWN_WORD}(?:\s(?:(?:am|an|der|im|bei|ob|sur|sous|en|le|la|de|del|di|upon|on)\s){{0,2}}{_CAP_WORD}){{0,5}}"
    r"(?:\s\([A-Z]{2}\))?"
)
_POSTCODE_TOWN = re.compile(
    # The lookahead skips, cheaply, every position that cannot start a postcode shape.
    rf"(?=[\dA-Z])(?<![\w\-/.,])(?:"
    # Germany, France, Spain, Italy: 5 digits then the town ("10115 Berlin", "56011, Gabella (PI)").
    rf"\d{{5}},?\s{_TOWN}"
    # US military post: "APO AE 09012".
    r"|(?:APO|FPO|DPO)\s(?:AA|AE|AP)\s\d{5}"
    # Netherlands: 4 digits, 2 letters, optional town ("1017 AB Amsterdam").
    rf"|\d{{4}}\s?[A-Z]{{2}}(?:,?\s{_TOWN})?"
    # United Kingdom: the postcode alone is specific enough ("SW1A 1AA", "N8 8HN").
    r"|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
    r")(?![\w])"
)
# What may stand before a postcode as earlier lines of the same address.
# Spain as Faker and many customers write it: town, then the code ("Madrid, 02857"), and
# the United States: town, state, ZIP ("Springfield, IL 62704-1234"). Found from the
# code backwards: a pattern starting with the town would be tried at every capital.
_BARE_POSTCODE = re.compile(r"(?<![\w\-/.,])\d{5}(?:-\d{4})?(?![\w])")
_TOWN_BEFORE_POSTCODE = re.compile(rf"(?<![\w-]){_TOWN}(?:,\s|,?\s[A-Z]{{2}}\s)$")
_TOWN_AFTER_POSTCODE = re.compile(rf",?\s?[{_UPPER}]")

_ADDRESS_LINE_BEFORE = re.compile(
    rf"(?:{_STREET.pattern}|{_ROMANCE_STREET_NAME}|{_UNIT}|{_HOUSE}"
    rf"|{_HOUSE}\s(?:{_CAP_WORD}\s?){{1,3}}"
    rf"|(?:PSC|Unit|CMR)\s\d{{1,5}},?\sBox\s\d{{1,5}}|US(?:NS|S|CGC)\s{_CAP_WORD}(?:\s{_CAP_WORD})?"
    rf"|{_TOWN})$"
)
_LINE_SEPARATOR_BEFORE = re.compile(r"(?:,\s?|\s?\n\s?|\s)$")
_MAX_LINES_BEFORE = 4


def _address_start(text: str, start: int) -> int:
    """Where the address ending at a postcode anchor begins: up to 4 lines back."""
    for _ in range(_MAX_LINES_BEFORE):
        separator = _LINE_SEPARATOR_BEFORE.search(text, 0, start)
        if separator is None:
            break
        line = _ADDRESS_LINE_BEFORE.search(text, max(0, separator.start() - 120), separator.start())
        if line is None or line.end() != separator.start():
            break
        # A lone capitalised word after a plain space is the sentence, not a line.
        if separator.group(0) == " " and not re.search(r"\d", line.group(0)):
            break
        start = line.start()
    return start


_FRENCH_HINT = re.compile(r"\b(?:rue|avenue|boulevard|chemin|impasse|allée|quai|faubourg)\s")


def _redact_street_names(text: str) -> str:
    return _STREET.sub(ADDRESS_TOKEN, text)


# Every postcode shape holds four digits in a row or a letter then a digit ("N8", "SW1A").
_POSTCODE_HINT = re.compile(r"\d{4}|[A-Z]\d")


def redact_addresses(text: str) -> str:
    """``text`` with postal addresses (street + number, postcode + town) replaced."""
    if not any(char.isdigit() for char in text):
        return _redact_street_names(text) if _FRENCH_HINT.search(text) else text
    spans: list[tuple[int, int]] = []
    if _POSTCODE_HINT.search(text):
        for match in _POSTCODE_TOWN.finditer(text):
            spans.append((_address_start(text, match.start()), match.end()))
        for match in _BARE_POSTCODE.finditer(text):
            town = _TOWN_BEFORE_POSTCODE.search(text, max(0, match.start() - 80), match.start())
            if town is None:
                continue
            if "," in town.group(0)[-2:] and _TOWN_AFTER_POSTCODE.match(text, match.end()):
                continue  # "avenue Samson, 57583 Lacroix": the code starts "57583 Lacroix"
            spans.append((_address_start(text, town.start()), match.end()))
    for hint, shape in _STREET_SHAPES:
        if hint.search(text):
            spans.extend(match.span() for match in shape.finditer(text))
    if not spans:
        return text
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        # Overlapping, touching or comma-joined pieces are one address.
        if merged and start <= merged[-1][1] + 2 and not text[merged[-1][1]:start].strip(", \n"):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[str] = []
    last = 0
    for start, end in merged:
        pieces.append(text[last:start])
        pieces.append(ADDRESS_TOKEN)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


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
