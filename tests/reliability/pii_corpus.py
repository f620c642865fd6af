"""A generated PII corpus for measuring redaction: recall on personal data, precision on
ordinary customer sentences.

Generated at run time from a fixed Faker seed (nothing committed): emails (Faker's and
ones built from accented names, e.g. ``josé.garcía@correo.es``), phone numbers in each
locale's national and international formats, card numbers solid or split by spaces or
dashes, IBANs solid, space- or dash-separated, and postal addresses (full, lines joined
by ", ", or the street alone), each embedded in a customer-like sentence of the locale's
language. The negative corpus is what customers write without personal data: order and
tracking numbers, dates, prices, times, quantities, ticket and product codes.

A positive case is caught when the redacted sentence keeps the template's text before
and after the value and nothing of the value is left between them but tokens and
punctuation. A negative sentence is correct when it comes back unchanged.

Used by tests/reliability/test_pii_corpus.py and scripts/reliability (family 8).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from faker import Faker

SEED = 20261206
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")
PER_LOCALE = {"email": 60, "phone": 80, "card": 40, "iban": 40, "address": 80}
NEGATIVES_PER_LOCALE = 150

# Sentences per language; {} is the value.
TEMPLATES: dict[str, dict[str, list[str]]] = {
    "en": {
        "email": ["Please send the invoice to {} thanks", "my email is {}", "You can reach me at {} anytime.",
                  "Contact: {}", "I changed my address to {} last week"],
        "phone": ["Call me on {} please", "my number is {}", "You can reach me at {} after 6pm.",
                  "phone: {}", "{} is my mobile", "text me at {} when it ships"],
        "card": ["I paid with card {} yesterday", "card number {} was charged twice", "my visa is {}.",
                 "Refund to {} please"],
        "iban": ["Please refund to IBAN {} thanks", "my bank account is {}", "Transfer to {} please.",
                 "IBAN: {}"],
        "address": ["Please ship it to {} by Friday.", "My address is {}", "I moved to {} last month, update it",
                    "Deliver to: {}", "The parcel should go to {} not the old place."],
    },
    "de": {
        "email": ["Bitte schicken Sie die Rechnung an {} danke", "Meine E-Mail ist {}", "Sie erreichen mich unter {}."],
        "phone": ["Rufen Sie mich unter {} an", "Meine Nummer ist {}", "Telefon: {}", "{} ist mein Handy"],
        "card": ["Ich habe mit der Karte {} bezahlt", "Kartennummer {} wurde doppelt belastet."],
        "iban": ["Bitte überweisen Sie auf {} danke", "Meine IBAN ist {}", "IBAN: {}."],
        "address": ["Bitte liefern Sie an {} bis Freitag.", "Meine Adresse ist {}", "Lieferadresse: {}",
                    "Ich bin nach {} umgezogen."],
    },
    "fr": {
        "email": ["Envoyez la facture à {} merci", "mon e-mail est {}", "Vous pouvez m'écrire à {}."],
        "phone": ["Appelez-moi au {} svp", "mon numéro est {}", "Tél : {}", "{} c'est mon portable"],
        "card": ["J'ai payé avec la carte {} hier", "la carte {} a été débitée deux fois."],
        "iban": ["Remboursez sur l'IBAN {} merci", "mon IBAN est {}", "IBAN : {}."],
        "address": ["Livrez à {} avant vendredi.", "Mon adresse est {}", "Adresse de livraison : {}",
                    "J'ai déménagé au {} le mois dernier."],
    },
    "es": {
        "email": ["Envíen la factura a {} gracias", "mi correo es {}", "Pueden escribirme a {}."],
        "phone": ["Llámenme al {} por favor", "mi número es {}", "Teléfono: {}", "{} es mi móvil"],
        "card": ["Pagué con la tarjeta {} ayer", "la tarjeta {} fue cobrada dos veces."],
        "iban": ["Devuelvan el dinero al IBAN {} gracias", "mi IBAN es {}", "IBAN: {}."],
        "address": ["Envíenlo a {} antes del viernes.", "Mi dirección es {}", "Dirección de entrega: {}",
                    "Me mudé a {} el mes pasado."],
    },
    "it": {
        "email": ["Inviate la fattura a {} grazie", "la mia email è {}", "Potete scrivermi a {}."],
        "phone": ["Chiamatemi al {} per favore", "il mio numero è {}", "Telefono: {}", "{} è il mio cellulare"],
        "card": ["Ho pagato con la carta {} ieri", "la carta {} è stata addebitata due volte."],
        "iban": ["Rimborsate sull'IBAN {} grazie", "il mio IBAN è {}", "IBAN: {}."],
        "address": ["Spedite a {} entro venerdì.", "Il mio indirizzo è {}", "Indirizzo di consegna: {}",
                    "Mi sono trasferito in {} il mese scorso."],
    },
    "nl": {
        "email": ["Stuur de factuur naar {} bedankt", "mijn e-mail is {}", "U kunt mij mailen op {}."],
        "phone": ["Bel me op {} alstublieft", "mijn nummer is {}", "Telefoon: {}", "{} is mijn mobiel"],
        "card": ["Ik heb betaald met kaart {} gisteren", "kaart {} is twee keer belast."],
        "iban": ["Stort het terug op {} bedankt", "mijn IBAN is {}", "IBAN: {}."],
        "address": ["Lever het aan {} voor vrijdag.", "Mijn adres is {}", "Afleveradres: {}",
                    "Ik ben verhuisd naar {} vorige maand."],
    },
}

# Free-mail domains with non-ASCII (IDN) and ASCII names; local parts from accented names.
IDN_DOMAINS = ("correo.es", "bücher.de", "exemple.fr", "posta.it", "voorbeeld.nl", "example.co.uk",
               "münchen-mail.de", "café.fr")

CARD_TYPES = ("visa16", "visa13", "visa19", "mastercard", "amex", "discover", "jcb16", "diners", "maestro")

# Ordinary sentences: every number in them is something other than personal data.
NEGATIVE_TEMPLATES = (
    "Where is my order {order}? I ordered it on {date}.",
    "Order {order} cost {price}, but I was charged {price2}.",
    "My tracking number is {tracking} and it has not moved since {date}.",
    "Ticket {ticket}: the {product} arrived broken.",
    "I bought {qty} items for {price} on {date} at {time}.",
    "Can I return order number {bare} after {days} days?",
    "The invoice {invoice} from {date} shows {price} instead of {price2}.",
    "Product code {sku} in size {size} is out of stock.",
    "I called about order {bare} on {date} but nobody answered.",
    "Please cancel order {amazon}, I ordered it by mistake.",
    "Delivery was promised for {date} between {time} and {time2}.",
    "My customer number is {bare} and my order {order}.",
    "I paid {price} for {qty} x {product} (order {order}).",
    "The app version {version} crashes when I open order {order}.",
    "Discount code {code} gave {percent} off, not {percent2}.",
    "Since {year} I have ordered {qty} times, order {order} was the last.",
    "Reference {ref} for my return of {qty} pieces, weight {weight}.",
    "Room {room} on floor {floor}, building {building}: the delivery desk is there.",
    "It has been {days} days since {date}, order {order} still says processing.",
    "My account {bare} shows a balance of {price}.",
    # Number + capitalised words, the shape of an address that is not one.
    "I bought {qty} Blue Shirts and {floor} Red Socks for {price}.",
    "Page {floor} of the Terms says {days} days, see section {version}.",
    "Flight LH {room} from Frankfurt was {days} minutes late, seat {floor}C.",
    "The {qty} Garden Chairs from order {order} arrived without screws.",
    "Model {sku} Park Edition costs {price} since {date}.",
)
PRODUCTS = ("headphones", "coffee machine", "blue shirt", "phone case", "lamp", "charger", "backpack")


@dataclass(frozen=True)
class Case:
    kind: str
    locale: str
    value: str
    prefix: str
    suffix: str

    @property
    def text(self) -> str:
        return self.prefix + self.value + self.suffix


@dataclass
class Report:
    positives: int = 0
    caught: int = 0
    misses: list[tuple[Case, str]] = field(default_factory=list)
    by_kind: Counter[str] = field(default_factory=Counter)
    caught_by_kind: Counter[str] = field(default_factory=Counter)
    context_damaged: int = 0  # caught, but text around the value changed too
    negatives: int = 0
    negatives_untouched: int = 0
    false_positives: list[tuple[str, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.positives if self.positives else 1.0

    @property
    def negative_precision(self) -> float:
        """Share of ordinary sentences left unchanged."""
        return self.negatives_untouched / self.negatives if self.negatives else 1.0

    def lines(self) -> list[str]:
        out = [f"positives {self.positives}: recall {self.recall:.4f} "
               f"({self.caught} caught, {len(self.misses)} missed, {self.context_damaged} with context changed)"]
        for kind in sorted(self.by_kind):
            total, hit = self.by_kind[kind], self.caught_by_kind[kind]
            out.append(f"  {kind:<8} {hit}/{total} = {hit / total:.4f}")
        out.append(f"negatives {self.negatives}: {self.negatives_untouched} untouched "
                   f"= {self.negative_precision:.4f}")
        return out


def _language(locale: str) -> str:
    return locale.split("_")[0]


def _ascii_fold(name: str) -> str:
    return re.sub(r"[^\w]+", "", name.lower())


def _email(fake: Faker, rng: random.Random, index: int) -> str:
    if index % 2 == 0:
        return fake.email()
    # A local part from the locale's own (often accented) names: RFC 6531 addresses.
    first, last = _ascii_fold(fake.first_name()), _ascii_fold(fake.last_name())
    joiner = rng.choice((".", "_", "", "-"))
    local = f"{first}{joiner}{last}" + (str(rng.randint(1, 99)) if rng.random() < 0.3 else "")
    return f"{local}@{rng.choice(IDN_DOMAINS + (fake.free_email_domain(),))}"


def _card(fake: Faker, rng: random.Random) -> str:
    number = fake.credit_card_number(rng.choice(CARD_TYPES))
    style = rng.choice(("solid", "space", "dash"))
    if style == "solid":
        return number
    separator = " " if style == "space" else "-"
    if len(number) == 15:  # American Express prints 4-6-5
        groups = [number[:4], number[4:10], number[10:]]
    else:
        groups = [number[i:i + 4] for i in range(0, len(number), 4)]
    return separator.join(groups)


def _iban(fake: Faker, rng: random.Random) -> str:
    iban = fake.iban()
    style = rng.choice(("solid", "space", "dash"))
    if style == "solid":
        return iban
    groups = [iban[i:i + 4] for i in range(0, len(iban), 4)]
    return (" " if style == "space" else "-").join(groups)


def _address(fake: Faker, rng: random.Random) -> str:
    if rng.random() < 0.25:
        return fake.street_address().strip()
    lines = [line.strip() for line in fake.address().splitlines() if line.strip()]
    return ", ".join(lines)


def positive_corpus(seed: int = SEED) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(seed)
        templates = TEMPLATES[_language(locale)]
        for kind, count in PER_LOCALE.items():
            for index in range(count):
                if kind == "email":
                    value = _email(fake, rng, index)
                elif kind == "phone":
                    value = fake.phone_number()
                elif kind == "card":
                    value = _card(fake, rng)
                elif kind == "iban":
                    value = _iban(fake, rng)
                else:
                    value = _address(fake, rng)
                prefix, suffix = rng.choice(templates[kind]).split("{}")
                cases.append(Case(kind, locale, value, prefix, suffix))
    return cases


def negative_corpus(seed: int = SEED) -> list[str]:
    rng = random.Random(seed + 1)
    sentences: list[str] = []
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(seed + 1)
        for _ in range(NEGATIVES_PER_LOCALE):
            date = fake.date_between("-2y", "today")
            values = {
                "order": rng.choice((f"#{rng.randint(10000, 9999999)}", f"BC{rng.randint(10**7, 10**8 - 1)}",
                                     f"ORD-{rng.randint(2019, 2026)}-{rng.randint(1, 999999):06d}",
                                     f"A{rng.randint(100000, 999999)}")),
                "bare": str(rng.randint(10**5, 10**10)),
                "amazon": f"{rng.randint(100, 999)}-{rng.randint(10**6, 10**7 - 1)}-{rng.randint(10**6, 10**7 - 1)}",
                "date": rng.choice((date.isoformat(), date.strftime("%d.%m.%Y"), date.strftime("%d/%m/%Y"),
                                    date.strftime("%B %d, %Y"), date.strftime("%d %B %Y"))),
                "price": rng.choice((f"€{rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
                                     f"{rng.randint(1, 9)}.{rng.randint(100, 999)},{rng.randint(0, 99):02d} €",
                                     f"${rng.randint(1, 9)},{rng.randint(100, 999)}.{rng.randint(0, 99):02d}",
                                     f"{rng.randint(1, 999)},{rng.randint(0, 99):02d} EUR", f"£{rng.randint(1, 500)}")),
                "price2": f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
                "tracking": rng.choice((f"1Z{rng.randint(100, 999)}AA{rng.randint(10**10, 10**11 - 1)}",
                                        f"JJD{rng.randint(10**14, 10**15 - 1)}",
                                        f"{rng.randint(10**11, 10**12 - 1)}",
                                        f"RR{rng.randint(10**8, 10**9 - 1)}DE")),
                "ticket": f"HL-{rng.randint(1000, 99999)}",
                "product": rng.choice(PRODUCTS),
                "qty": str(rng.randint(1, 40)),
                "time": f"{rng.randint(7, 20)}:{rng.choice(('00', '15', '30', '45'))}",
                "time2": f"{rng.randint(7, 20)}:{rng.choice(('00', '30'))}",
                "days": str(rng.randint(2, 90)),
                "invoice": f"INV-{rng.randint(10000, 999999)}",
                "sku": f"{rng.choice(('SKU', 'ART', 'REF'))} {rng.randint(10000, 99999)}-{rng.choice(('XL', 'M', 'S', '42'))}",
                "size": rng.choice(("M", "XL", "42", "10.5", "38/40")),
                "version": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                "code": f"SAVE{rng.randint(5, 50)}",
                "percent": f"{rng.randint(5, 50)}%", "percent2": f"{rng.randint(5, 50)} %",
                "year": str(rng.randint(2005, 2025)),
                "ref": f"{rng.randint(10**5, 10**6 - 1)}/{rng.randint(10, 99)}",
                "weight": rng.choice((f"{rng.randint(1, 30)} kg", f"{rng.randint(100, 999)} g")),
                "room": str(rng.randint(1, 500)), "floor": str(rng.randint(0, 12)), "building": rng.choice("ABCDE"),
            }
            sentences.append(rng.choice(NEGATIVE_TEMPLATES).format(**values))
    return sentences


# Left between prefix and suffix when the value is caught: tokens and punctuation only.
_TOKEN_OR_PUNCT = re.compile(r"\[(?:email|phone|card|iban|address)\]|[\s,.;:/()\-]")


def evaluate(redact: Callable[[str], str], seed: int = SEED) -> Report:
    report = Report()
    for case in positive_corpus(seed):
        report.positives += 1
        report.by_kind[case.kind] += 1
        out = redact(case.text)
        if out.startswith(case.prefix) and out.endswith(case.suffix):
            middle = out[len(case.prefix):len(out) - len(case.suffix)]
            caught = not _TOKEN_OR_PUNCT.sub("", middle) and "[" in middle
            if caught:
                report.caught += 1
                report.caught_by_kind[case.kind] += 1
            else:
                report.misses.append((case, out))
            continue
        # The template's own text changed: count the value as caught only if none of it
        # survives, and note the damage (a precision loss, not a recall one).
        leftovers = [part for part in re.split(r"[\s,]+", case.value) if len(part) > 2 and part in out]
        if not leftovers:
            report.caught += 1
            report.caught_by_kind[case.kind] += 1
            report.context_damaged += 1
        else:
            report.misses.append((case, out))
    for sentence in negative_corpus(seed):
        report.negatives += 1
        out = redact(sentence)
        if out == sentence:
            report.negatives_untouched += 1
        else:
            report.false_positives.append((sentence, out))
    return report
