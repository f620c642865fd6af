from bot.conversation_ids import ConversationIdSigner


def test_issued_id_verifies_to_its_raw_id() -> None:
    signer = ConversationIdSigner("key")
    raw, signed = signer.new()
    assert signer.verify(signed) == raw
    assert len(raw) == 32


def test_guessed_or_edited_ids_are_rejected() -> None:
    signer = ConversationIdSigner("key")
    raw, signed = signer.new()
    other_raw, _ = signer.new()
    forged = f"{other_raw}.{signed.split('.')[1]}"
    assert signer.verify(forged) is None
    assert signer.verify(raw) is None  # unsigned
    assert signer.verify(signed + "x") is None
    assert ConversationIdSigner("another key").verify(signed) is None


def test_garbage_is_rejected_without_error() -> None:
    signer = ConversationIdSigner("key")
    for value in (None, 42, "", ".", "a.b.c", {"session_id": "x"}, "../../etc.passwd"):
        assert signer.verify(value) is None
