"""Splitting long answers at Telegram's 4,096-unit limit, on the nicest boundary."""

from __future__ import annotations

from bot.channels.telegram.text_split import TELEGRAM_TEXT_LIMIT, split_text, utf16_length


def test_short_text_is_one_piece_and_blank_text_none() -> None:
    assert split_text("Hello *there* <b>") == ["Hello *there* <b>"]  # plain text: as written
    assert split_text("") == [] and split_text(" \n ") == []


def test_long_text_splits_on_paragraphs_and_loses_nothing_else() -> None:
    paragraphs = [f"P{n} " + "word " * 300 for n in range(10)]  # ~1,500 characters each
    text = "\n\n".join(paragraphs)
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(utf16_length(p) <= TELEGRAM_TEXT_LIMIT for p in pieces)
    assert "\n\n".join(pieces) == text  # cut only at paragraph breaks
    assert all(p.startswith("P") for p in pieces)


def test_without_paragraphs_lines_then_words_are_used() -> None:
    lines = "\n".join("line " * 20 for _ in range(100))  # no blank lines
    assert all(not p.startswith("\n") for p in split_text(lines))
    assert "\n".join(split_text(lines)) == lines
    words = "word " * 2000
    pieces = split_text(words)
    assert " ".join(pieces) == words and all(utf16_length(p) <= 4096 for p in pieces)


def test_a_boundary_too_early_is_not_used() -> None:
    # One early paragraph break would leave a tiny first piece; a hard cut is better.
    text = "Short intro.\n\n" + "x" * 9000
    pieces = split_text(text)
    assert utf16_length(pieces[0]) == TELEGRAM_TEXT_LIMIT
    assert "".join(pieces) == text


def test_emoji_count_twice_and_are_never_cut_in_half() -> None:
    text = "😀" * 3000  # 6,000 UTF-16 units
    pieces = split_text(text)
    assert [utf16_length(p) for p in pieces] == [4096, 1904]
    assert "".join(pieces) == text
