"""The summary window long messages are scored on (bot/long_messages.py)."""

from __future__ import annotations

from bot.long_messages import OPENING_CHARS, WINDOW_FROM_CHARS, question_score, summary_window
from bot.pipeline import customer_text_for_rasa


def test_short_messages_and_payloads_are_read_whole() -> None:
    assert summary_window("where is my parcel?") == "where is my parcel?"
    payload = '/faq_select{"faq_id":"' + "x" * 500 + '"}'
    assert summary_window(payload) == payload


def test_a_long_story_is_read_as_its_opening_plus_its_question() -> None:
    story = "We moved house last month and bought lots of furniture from different shops. " * 40
    text = story + "The sofa was fine. Anyway: can I pay with PayPal? Thanks, Jane."
    window = summary_window(text)
    assert len(text) > 3000 and len(window) <= OPENING_CHARS + 200
    assert window.startswith("We moved house last month")
    assert window.endswith("can I pay with PayPal?") or "can I pay with PayPal?" in window


def test_without_a_question_only_the_opening_counts() -> None:
    text = "I have been a customer for years and I like the shop a lot. " * 30
    window = summary_window(text)
    assert len(window) <= OPENING_CHARS and window.startswith("I have been a customer")


def test_one_endless_sentence_is_clipped_on_a_word() -> None:
    text = "word " * 1000
    window = summary_window(text)
    assert len(window) <= OPENING_CHARS and window.endswith("word")


def test_questions_score_above_statements() -> None:
    assert question_score("How long does a refund take?") > question_score("Can I return it") > question_score("It broke.")


def test_the_window_is_what_rasa_gets() -> None:
    text = "x " * WINDOW_FROM_CHARS + "How do I return it?"
    assert customer_text_for_rasa(summary_window(text)).endswith("How do I return it?")


def test_repeated_sentences_count_once() -> None:
    text = "I moved house last month and bought furniture. " * 60 + "Can I pay with PayPal?"
    assert summary_window(text) == "I moved house last month and bought furniture. Can I pay with PayPal?"
