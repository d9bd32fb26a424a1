"""The store's tables as data: a store made by older code, without the links, gains them on open."""

from __future__ import annotations

import logging

import pytest
import sqlite_utils
from conftest import SAMPLES

from extraction import pipeline
from extraction.schema import Cell
from extraction.storage import shape, store

# The tables that had no foreign keys before commit 4a30b26 (extractions and page_images had theirs).
UNLINKED = ("llm_calls", "findings", "reviews", "gold")


def links(db: sqlite_utils.Database, table: str) -> set[tuple[str, str, str]]:
    return {(fk.column, fk.other_table, fk.other_column) for fk in db[table].foreign_keys}


def old_store(tmp_path, orphans: bool = False):
    """A store as the code before the links wrote it: documents, extractions, findings, a review and
    its gold example, in tables created without foreign keys (sqlite-utils' create, no FKs)."""
    path = tmp_path / "old.db"
    db = store.open_db(path)
    pipeline.run(db, [str(p) for p in SAMPLES])
    queued = next(store.documents(db, "queued"))
    report = store.report_of(store.current_extraction(db, queued["id"]))
    report.applications.set("total_handled", "total", Cell.of(4))
    store.add_review(db, queued["id"], "ana", "fixed", report, [{"cell": "applications.total_handled.total"}])
    for table in UNLINKED:
        db[table].transform(drop_foreign_keys=[fk.column for fk in db[table].foreign_keys])
    if orphans:  # a finding, a model call and a review whose document was removed behind the store's back
        for table in ("findings", "llm_calls", "reviews"):
            db[table].insert({"doc_id": "gone", "extraction_id": 999999, "created_at": store.now()}, alter=False)
    db.conn.close()
    old = sqlite_utils.Database(path)
    assert all(not old[t].foreign_keys for t in UNLINKED)
    return path, queued["id"]


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {t: db[t].count for t in db.table_names() if not t.startswith("documents_fts")}


def test_a_store_made_before_the_links_gains_them_on_open_with_every_row_and_review(tmp_path):
    path, reviewed = old_store(tmp_path)
    before = counts(sqlite_utils.Database(path))
    review = sqlite_utils.Database(path)["reviews"].get(1)

    db = store.open_db(path)

    for table in shape.TABLES + shape.CURRENT_TABLES:
        assert links(db, table.name) == set(table.foreign_keys), table.name
    assert links(db, "gold") == {("doc_id", "documents", "id"), ("review_id", "reviews", "id")}
    assert counts(db) == before
    assert db["reviews"].get(1) == review and db["gold"].count == 1
    assert store.document(db, reviewed)["status"] == "reviewed"
    assert store.report_of(store.latest_review(db, reviewed)).applications.value("total_handled", "total") == 4
    # The rebuilt tables keep their indexes and the store keeps working.
    assert {tuple(i.columns) for i in db["findings"].indexes} >= {("extraction_id",)}
    pipeline.run(db, [str(p) for p in SAMPLES])
    assert db["documents"].count == before["documents"] and db["reviews"].count == 1


def test_opening_a_migrated_store_again_changes_nothing(tmp_path):
    path, _ = old_store(tmp_path)
    store.open_db(path).conn.close()
    schema = list(sqlite_utils.Database(path).execute("select type, name, sql from sqlite_master order by name"))
    before = counts(sqlite_utils.Database(path))
    db = store.open_db(path)
    assert list(db.execute("select type, name, sql from sqlite_master order by name")) == schema
    assert counts(db) == before
    assert shape.link(db, shape.TABLES + shape.CURRENT_TABLES) == {}


def test_rows_whose_document_is_gone_are_kept_and_named_in_a_warning(tmp_path, caplog):
    path, _ = old_store(tmp_path, orphans=True)
    before = counts(sqlite_utils.Database(path))
    with caplog.at_level(logging.WARNING, logger="extraction.storage.shape"):
        db = store.open_db(path)
    assert counts(db) == before  # nothing deleted, nothing moved
    assert links(db, "reviews") == {("doc_id", "documents", "id"), ("extraction_id", "extractions", "id")}
    assert db["reviews"].count_where("doc_id = 'gone'") == 1
    assert "1 in findings" in caplog.text and "1 in reviews" in caplog.text and "1 in llm_calls" in caplog.text
    assert {row[0] for row in db.execute("PRAGMA foreign_key_check")} == {"findings", "llm_calls", "reviews"}


def test_a_migration_that_fails_half_way_leaves_the_old_store_as_it_was(tmp_path, monkeypatch):
    path, _ = old_store(tmp_path)
    before = counts(sqlite_utils.Database(path))
    transform = sqlite_utils.db.Table.transform
    done: list[str] = []

    def fail_on_the_third(self, **kwargs):
        if len(done) == 2:
            raise OSError("disk full")
        done.append(self.name)
        return transform(self, **kwargs)

    monkeypatch.setattr(sqlite_utils.db.Table, "transform", fail_on_the_third)
    with pytest.raises(OSError):
        store.open_db(path)
    monkeypatch.undo()
    old = sqlite_utils.Database(path)
    assert len(done) == 2 and all(not old[t].foreign_keys for t in UNLINKED)
    assert counts(old) == before
