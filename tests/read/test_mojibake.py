"""Garbled text repaired before it is read; characters lost to garbling named."""

import pytest
from conftest import SAMPLES

from extraction import pipeline
from extraction.read import ingest, mojibake
from extraction.storage import store
from extraction.tables import layout


def _garble(text: str, source: str, garbler: str) -> str:
    return text.encode(source).decode(garbler, errors="replace")


@pytest.mark.parametrize("source", ["utf-8", "gb18030"])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name[:3])
def test_text_garbled_through_latin_1_reads_exactly_as_the_original(tmp_path, sample, source):
    original = sample.read_text(encoding="utf-8")
    path = tmp_path / sample.name
    path.write_text(_garble(original, source, "latin-1"), encoding="utf-8")
    doc = ingest.read(path)
    assert doc.text == original
    assert doc.repair and source.upper() in doc.repair and "lost" not in doc.repair
    assert layout.parse(doc.text).report == layout.parse(original).report


def test_text_garbled_through_windows_1252_keeps_what_is_left_and_names_the_loss(tmp_path):
    original = SAMPLES[2].read_text(encoding="utf-8")
    garbled = _garble(original, "utf-8", "cp1252")  # 1252 has five undefined bytes: "�"
    assert "\ufffd" in garbled
    repaired = mojibake.repair(garbled)
    assert repaired.note and "lost" in repaired.note
    assert len(repaired.text) > 0.9 * len(original)
    finding = mojibake.lost_characters(repaired.text)
    assert finding is not None and str(repaired.text.count("\ufffd")) in finding.message


def test_text_that_is_not_garbled_is_left_as_it_is():
    for text in (SAMPLES[0].read_text(encoding="utf-8"), "Déjà vu: café, naïve, résumé. " * 10, "plain ascii " * 50):
        assert mojibake.repair(text) == mojibake.Repair(text, None)


def test_a_lost_character_inside_a_table_blocks_acceptance_and_outside_only_tells(db, tmp_path):
    text = SAMPLES[1].read_text(encoding="utf-8")
    at_table = text.index("（七）总计")
    inside = mojibake.lost_characters(text[:at_table] + "\ufffd" + text[at_table:])
    outside = mojibake.lost_characters("\ufffd" + text)
    assert inside is not None and inside.blocks_acceptance
    assert outside is not None and not outside.blocks_acceptance
    assert mojibake.lost_characters(text) is None
    path = tmp_path / "lost.txt"
    path.write_text(text[:at_table] + "\ufffd" + text[at_table:], encoding="utf-8")
    outcomes = pipeline.run(db, [str(path)])
    assert [o.status for o in outcomes] == ["queued"]
    assert store.document(db, outcomes[0].doc_id)["status"] == "queued"


def test_the_repair_is_recorded_on_the_stored_document(db, tmp_path):
    path = tmp_path / "garbled.txt"
    path.write_text(_garble(SAMPLES[1].read_text(encoding="utf-8"), "utf-8", "latin-1"), encoding="utf-8")
    doc = ingest.read(path)
    store.add_document(db, doc)
    assert "UTF-8" in store.document(db, doc.id)["repair"]
