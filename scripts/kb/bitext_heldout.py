#!/usr/bin/env python3
"""Write data/faq_eval/bitext_heldout.csv and bitext_escalation.csv: more held-out wording.

A second held-out set for the Brightcart demo, never used to tune anything: Bitext
customer-support utterances (CDLA-Sharing-1.0) of the intents that one demo FAQ answers,
adapted like the rest of the demo data (order numbers -> "BC" + 8 digits, invoice numbers ->
"INV-" + 7 digits, dollar amounts -> euros, subscription account types -> personal/business).
An utterance is left out when its template (digits and account types masked, case and
spacing folded) equals the template of any FAQ phrasing, NLU example or evaluation query
already in the repository, so no row differs from a training text only by its number.

Intents left out because their utterances do not map to one demo FAQ:
newsletter_subscription (mixes subscribing and unsubscribing), contact_customer_service
(hours vs channels). complaint and contact_human_agent go to bitext_escalation.csv
(`text,expected` with expected = complaint / request_human): the bot should escalate those.

    python scripts/kb/bitext_heldout.py [--per-intent 15] [--seed 7]
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from pathlib import Path

import yaml

SOURCE = Path("/work/shared/datasets/bitext-customer-support/Bitext_Sample_Customer_Support_Training_Dataset.csv")
OUT = Path("data/faq_eval")

FAQ_OF_INTENT = {
    "cancel_order": "orders.cancel",
    "change_order": "orders.change",
    "check_cancellation_fee": "orders.cancellation_fee",
    "place_order": "orders.place",
    "track_order": "orders.track",
    "change_shipping_address": "delivery.change_address",
    "set_up_shipping_address": "delivery.add_address",
    "delivery_options": "delivery.options",
    "delivery_period": "delivery.times",
    "check_invoice": "invoices.download",
    "get_invoice": "invoices.download",
    "check_payment_methods": "payment.methods",
    "payment_issue": "payment.problem",
    "check_refund_policy": "returns_refunds.policy",
    "get_refund": "returns_refunds.request_refund",
    "track_refund": "returns_refunds.status",
    "create_account": "account_privacy.create",
    "delete_account": "account_privacy.delete",
    "edit_account": "account_privacy.edit_details",
    "recover_password": "account_privacy.password_reset",
    "registration_problems": "account_privacy.registration_problem",
    "switch_account": "account_privacy.switch_account",
    "review": "contact.feedback",
}
# Bitext's delivery_options also holds "can I order from Toronto?" / "shipping to Seattle",
# which the demo answers in delivery.countries; its check_refund_policy holds "how long do
# refunds take", answered by returns_refunds.timing.
REFINED = (
    ("delivery.options", re.compile(r"\b((?i:order from)|from [A-Z]|to [A-Z])"), "delivery.countries"),
    ("returns_refunds.policy", re.compile(r"\bhow lo\w*g\b", re.I), "returns_refunds.timing"),
)
ESCALATION_OF_INTENT = {"complaint": "complaint", "contact_human_agent": "request_human"}

ACCOUNT_TYPES = re.compile(r"\b(freemium|free|standard|pro|premium|gold|platinum|personal|business)\b", re.I)
BITEXT_ACCOUNT = re.compile(r"\b(freemium|standard|pro|premium|gold|platinum)\b", re.I)
# Dropped like the rest of the demo data: names, PINs, profanity-prone placeholders.
DROP = re.compile(r"\b(mr|mrs|ms|miss)\b\.?|\bpin\b|\{\{|fuck|shit|damn", re.I)
PERSON = re.compile(r"\bfrom [A-Z][a-z]+ [A-Z][a-z]+")  # "the bill from Anna Freeman"


def template(text: str) -> str:
    text = ACCOUNT_TYPES.sub("ACCT", text.casefold())
    text = re.sub(r"\binv-?\s*", "", text)
    text = re.sub(r"\bbc(?=\d)", "", text)
    text = re.sub(r"[$€]?\d[\d,.]*", "N", text)
    return " ".join(re.sub(r"[^\w ]", " ", text).split())


def refine(label: str, text: str) -> str:
    for broad, pattern, narrow in REFINED:
        if label == broad and pattern.search(text):
            return narrow
    return label


def known_texts() -> set[str]:
    texts: list[str] = []
    for path in sorted(Path("data/faq").glob("*.yml")):
        for faq in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("faqs", []):
            texts += [faq["question"], *faq.get("phrasings", [])]
    for path in sorted(Path("data/nlu").glob("*.yml")) + [OUT / "nlu_test.yml"]:
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            texts += [line[2:] for line in str(block.get("examples", "")).splitlines() if line.startswith("- ")]
    with (OUT / "queries.csv").open(encoding="utf-8") as fh:
        texts += [row["text"] for row in csv.DictReader(fh)]
    return {template(t) for t in texts}


def adapt(text: str, rng: random.Random) -> str:
    text = " ".join(text.split())
    text = re.sub(r"\$\s?(\d[\d,.]*)", lambda m: f"€{m.group(1)}", text)
    text = re.sub(r"([A-Za-z])(\d{5,})", r"\1 \2", text)  # "order732201349959"
    text = re.sub(r"\b(?:INV-?)?\d{5,}\b",
                  lambda m: (f"INV-{rng.randrange(10**6, 10**7)}" if "invoice" in text.lower() or "bill" in text.lower()
                             else f"BC{rng.randrange(10**7, 10**8)}"), text)
    return BITEXT_ACCOUNT.sub(lambda m: rng.choice(["personal", "business"]), text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-intent", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seen = known_texts()
    by_intent: dict[str, list[str]] = {}
    with SOURCE.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_intent.setdefault(row["intent"], []).append(row["instruction"])
    faq_rows: list[tuple[str, str]] = []
    escalation_rows: list[tuple[str, str]] = []
    for intent in sorted(by_intent):
        label = FAQ_OF_INTENT.get(intent) or ESCALATION_OF_INTENT.get(intent)
        if label is None:
            continue
        texts = by_intent[intent][:]
        rng.shuffle(texts)
        picked = 0
        for raw in texts:
            if picked >= args.per_intent:
                break
            key = template(raw)
            if not key or key in seen or DROP.search(raw) or PERSON.search(raw):
                continue
            seen.add(key)  # one utterance per template within this file as well
            target = faq_rows if intent in FAQ_OF_INTENT else escalation_rows
            target.append((adapt(raw, rng), refine(label, raw)))
            picked += 1
    for name, header, rows in (("bitext_heldout.csv", ["text", "faq_id"], faq_rows),
                               ("bitext_escalation.csv", ["text", "expected"], escalation_rows)):
        with (OUT / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
        print(f"{OUT / name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
