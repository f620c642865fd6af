import pytest
from kb_testing import write

from knowledge_base.source import (
    content_hash,
    dump_faq_yaml,
    load_faq_csv,
    load_faq_dir,
    load_queries_csv,
    write_faq_csv,
)
from knowledge_base.validation import FaqValidationError, check_yaml_text


def test_csv_export_import_round_trip(faq_dir, tmp_path):
    entries = load_faq_dir(faq_dir)
    out = tmp_path / "faq.csv"
    rows = write_faq_csv(entries, out)
    assert rows == sum(1 + len(e.phrasings) for e in entries)
    back = load_faq_csv(out, strict=True)
    assert back == entries
    assert content_hash(back) == content_hash(entries)


def test_yaml_dump_passes_validation_and_keeps_content(faq_dir):
    entries = load_faq_dir(faq_dir)
    loaded, problems = check_yaml_text(dump_faq_yaml(entries), "dumped.yml")
    assert problems == []
    assert [e for e, _ in loaded] == [
        e.__class__(**{**e.to_dict(), "answer": e.answer if e.answer.endswith("\n") or "\n" not in e.answer else e.answer + "\n"})
        for e in entries
    ]


def test_interchange_csv_groups_rows_by_id(tmp_path):
    path = write(tmp_path / "faq.csv", "faq_id,question,answer\nCard Arrival,Where is my card?,It ships in 3 days\nCard Arrival,card not here yet,\nfx,exchange rate?,\n")
    entries = load_faq_csv(path)
    assert [e.id for e in entries] == ["Card Arrival", "fx"]
    assert entries[0].phrasings == ["card not here yet"]
    assert entries[0].answer == "It ships in 3 days"
    assert entries[1].answer == ""  # evaluation files may leave answers out


def test_strict_csv_reports_ids_and_answers_with_lines(tmp_path):
    path = write(tmp_path / "faq.csv", "faq_id,question,answer\nBad Id,Hello?,Hi\nok,Q,\n,orphan,\nok2,,x\n")
    with pytest.raises(FaqValidationError) as info:
        load_faq_csv(path, strict=True)
    found = [str(p) for p in info.value.problems]
    assert any("faq.csv:2:" in p and "Bad Id" in p for p in found)
    assert any("faq.csv:3:" in p and "no answer" in p for p in found)
    assert any("faq.csv:4:" in p and "faq_id is empty" in p for p in found)
    assert any("faq.csv:5:" in p and "question is empty" in p for p in found)


def test_csv_without_required_columns(tmp_path):
    path = write(tmp_path / "faq.csv", "id,text\na,b\n")
    with pytest.raises(FaqValidationError, match="missing column"):
        load_faq_csv(path)


def test_queries_csv_empty_label_means_out_of_scope(tmp_path):
    path = write(tmp_path / "q.csv", "text,faq_id\nwhere is my card,card_arrival\nsing me a song,\n,ignored\n")
    assert load_queries_csv(path) == [("where is my card", "card_arrival"), ("sing me a song", None)]
    bad = write(tmp_path / "bad.csv", "query,label\nx,y\n")
    with pytest.raises(FaqValidationError, match="text,faq_id"):
        load_queries_csv(bad)
