"""Reading files: encodings, and bad files that must fail with a reason and lose nothing."""

import hashlib

import pytest

from extraction import ingest

TEXT = "某某局2020年政府信息公开工作年度报告\n一、总体情况\n共收到申请3件。\n"


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be", "big5"]
)
def test_chinese_encodings_decode_to_the_same_text(tmp_path, encoding):
    source = TEXT if encoding != "big5" else "某某局2020年政府資訊公開工作年度報告\n一、總體情況\n"
    path = tmp_path / "report.txt"
    path.write_bytes(source.encode(encoding))
    doc = ingest.read(path)
    assert doc.error is None
    assert doc.text.lstrip("\ufeff") == source


def test_id_is_the_sha256_of_the_bytes(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(TEXT.encode())
    assert ingest.read(path).id == hashlib.sha256(TEXT.encode()).hexdigest()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"  \n\n ", "empty"),
        (bytes(range(256)) * 40, "binary"),
        (b"%PDF-1.7\x00\x01\x02binary", "PDF is damaged or not a PDF"),  # named .txt, known by its bytes
        (b"PK\x03\x04" + bytes(60), "not a readable Word .docx file"),
    ],
)
def test_unreadable_files_fail_with_a_reason_but_keep_their_id(tmp_path, content, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    doc = ingest.read(path)
    assert doc.text is None and reason in doc.error
    assert doc.id == hashlib.sha256(content).hexdigest()


def test_file_over_the_size_limit_fails_without_being_read(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024)
    doc = ingest.read(path, max_mb=2)
    assert doc.text is None and "over the 2 MB limit" in doc.error and doc.size == 3 * 1024 * 1024


def test_old_binary_word_files_are_refused_with_how_to_convert_them(tmp_path):
    path = tmp_path / "report.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    doc = ingest.read(path)
    assert doc.format == "old Word" and "libreoffice --headless --convert-to docx" in doc.error


def test_expand_reads_folders_globs_and_files_once(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/1.txt", "a/2.txt", "3.txt", "a/xxgk.db", "a/xxgk.db-wal", "a/.hidden"):
        (tmp_path / name).write_text("x")
    found = list(ingest.expand([str(tmp_path / "a"), str(tmp_path / "*.txt"), str(tmp_path / "a" / "1.txt")]))
    assert [p.name for p in found] == ["1.txt", "2.txt", "3.txt"]
