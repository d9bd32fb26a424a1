"""Reading files: encodings, and bad files that must fail with a reason and lose nothing."""

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from extraction import pipeline
from extraction.read import ingest
from extraction.storage import store


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


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
    assert [p.name for p in found] == ["1.txt", "2.txt", "3.txt"] and not any(p.refused for p in found)


# --- Files that are not files, links, globs, permissions -------------------------------------


def test_a_fifo_or_device_named_directly_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # opening it to read would wait for a writer for ever
    for path in (fifo, Path("/dev/zero")):
        doc = ingest.read(path)
        assert doc.text is None and "not a file: not read" in doc.error
        assert ingest.file_id(path) == doc.id  # the rerun's "already in the store?" does not block either
    assert "named pipe" in ingest.read(fifo).error and "character device" in ingest.read(Path("/dev/zero")).error


def test_every_input_in_a_folder_is_recorded_and_links_outside_it_are_not_followed(db, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.txt").write_text(TEXT, encoding="utf-8")
    os.mkfifo(inbox / "pipe")
    (tmp_path / "secret.txt").write_text("outside the folder", encoding="utf-8")
    (inbox / "passwd").symlink_to(tmp_path / "secret.txt")
    (inbox / "alias.txt").symlink_to(inbox / "good.txt")  # inside the folder: followed
    (inbox / "outdir").symlink_to(tmp_path, target_is_directory=True)
    outcomes = {Path(o.name).name: o for o in pipeline.ingest_paths(db, [str(inbox)])}
    assert set(outcomes) == {"good.txt", "alias.txt", "pipe", "passwd", "outdir"}
    assert {outcomes["good.txt"].status, outcomes["alias.txt"].status} == {"ingested", "present"}
    assert "named pipe" in outcomes["pipe"].detail
    assert "symbolic link to" in outcomes["passwd"].detail and "not followed" in outcomes["passwd"].detail
    assert "not followed" in outcomes["outdir"].detail
    assert not any(d["text"] and "outside the folder" in d["text"] for d in store.documents(db))
    assert {d["status"] for d in store.documents(db)} == {"ingested", "failed"} and db["documents"].count == 4


def test_a_path_with_glob_characters_is_taken_literally_and_a_glob_matching_nothing_fails(db, tmp_path):
    literal = tmp_path / "报告[2020].txt"
    literal.write_text(TEXT, encoding="utf-8")
    assert [o.status for o in pipeline.ingest_paths(db, [str(literal)])] == ["ingested"]
    nothing = pipeline.ingest_paths(db, [str(tmp_path / "*.pdf")])
    assert [o.status for o in nothing] == ["failed"] and "nothing matches" in nothing[0].detail
    assert db["documents"].count == 1


UNREADABLE = """
import os, sys
from pathlib import Path
from extraction import pipeline
from extraction.storage import store
db = store.open_db(sys.argv[2])
if os.geteuid() == 0:  # root reads anything: the check runs as nobody
    os.setgid(65534)
    os.setuid(65534)
for o in pipeline.ingest_paths(db, [sys.argv[1]]):
    print(Path(o.name).name, o.status, o.detail, sep="|")
"""


def test_an_unreadable_file_is_recorded_as_failed_and_the_batch_goes_on():
    with tempfile.TemporaryDirectory() as shared:  # a folder the unprivileged child may enter
        inbox = Path(shared) / "inbox"
        inbox.mkdir()
        (inbox / "a_locked.txt").write_text(TEXT, encoding="utf-8")
        (inbox / "b_good.txt").write_text(TEXT + "\n", encoding="utf-8")
        (inbox / "a_locked.txt").chmod(0)
        for path in (Path(shared), inbox):
            path.chmod(0o777)
        done = subprocess.run(
            [sys.executable, "-c", UNREADABLE, str(inbox), str(Path(shared) / "x.db")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split("|", 1) for line in done.stdout.splitlines())
    assert lines["a_locked.txt"].startswith("failed|file cannot be read: Permission denied")
    assert lines["b_good.txt"].startswith("ingested")


# --- Budgets -------------------------------------------------------------------------------


def test_a_docx_unpacking_past_the_budget_fails_before_it_is_inflated(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:p/>" * (3 * 1024 * 1024))  # 18 MB of XML, 20 KB zipped
    path = tmp_path / "bomb.docx"
    path.write_bytes(buffer.getvalue())
    doc = ingest.read(path, limits=ingest.Limits(max_inflated_mb=8))
    assert doc.text is None and "unpacks to 18 MB" in doc.error and "XXGK_MAX_INFLATED_MB" in doc.error


def test_a_multi_page_tiff_over_the_pixel_budget_fails_naming_the_page(tmp_path):
    from PIL import Image

    frames = [Image.new("1", (400, 400), 1), Image.new("1", (4000, 4000), 1)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:], compression="group4")
    doc = ingest.read(write(tmp_path, "scan.tif", buffer.getvalue()), limits=ingest.Limits(max_megapixels=1))
    assert doc.text is None and "image page 2 is 4000x4000 (16 megapixels)" in doc.error
    assert "XXGK_MAX_MEGAPIXELS" in doc.error


def test_a_pdf_declaring_more_pages_than_the_limit_fails_before_its_pages_are_listed(tmp_path):
    # A catalogue saying 150,000 pages with no page objects at all: only the declared count can refuse it.
    body = [
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n",
        b"2 0 obj << /Type /Pages /Kids [] /Count 150000 >> endobj\n",
    ]
    head = b"%PDF-1.4\n"
    offsets, data = [], head
    for obj in body:
        offsets.append(len(data))
        data += obj
    xref = len(data)
    data += b"xref\n0 3\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    data += b"trailer << /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    doc = ingest.read(write(tmp_path, "long.pdf", data), limits=ingest.Limits(max_pages=100))
    assert doc.text is None and "PDF has 150000 pages, over the limit of 100" in doc.error


def test_a_page_too_large_to_render_fails_before_it_is_rendered(tmp_path):
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(14400, 14400))
    pdf.line(100, 100, 14000, 100)  # a page with something drawn on it must be rendered to be read
    pdf.showPage()
    pdf.save()
    doc = ingest.read(write(tmp_path, "huge.pdf", buffer.getvalue()))
    assert doc.text is None and "page 1 is 14400x14400 pt" in doc.error and "pixel budget" in doc.error


def test_limits_come_from_the_environment_and_a_bad_value_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("XXGK_MAX_TABLE_CELLS", "500")
    assert ingest.Limits.from_env(max_mb=3).max_table_cells == 500
    assert ingest.Limits.from_env(max_mb=3).max_mb == 3
    monkeypatch.setenv("XXGK_MAX_FILE_MB", "20MB")
    with pytest.raises(ingest.SettingsError, match=r"XXGK_MAX_FILE_MB='20MB' is not a number \(e.g. "):
        ingest.Limits.from_env()


def test_ocr_threads_are_read_with_the_other_settings_and_a_bad_value_names_the_setting(monkeypatch):
    assert ingest.Limits.from_env().ocr_threads is None  # unset: onnxruntime takes every core
    monkeypatch.setenv("XXGK_OCR_THREADS", "1")
    assert ingest.Limits.from_env().ocr_threads == 1
    monkeypatch.setenv("XXGK_OCR_THREADS", "two")
    with pytest.raises(
        ingest.SettingsError, match=r"XXGK_OCR_THREADS='two' is not a whole number \(e.g. XXGK_OCR_THREADS=1"
    ):
        ingest.Limits.from_env()
    monkeypatch.setenv("XXGK_OCR_THREADS", "0")
    with pytest.raises(ingest.SettingsError, match=r"XXGK_OCR_THREADS='0' must be above 0 \(e.g. XXGK_OCR_THREADS=1"):
        ingest.Limits.from_env()


# --- Decoding ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_one_invalid_byte_keeps_the_report_and_says_where(tmp_path, encoding):
    good = (TEXT * 4).encode(encoding)
    cut = good.index("共收到".encode(encoding))
    path = write(tmp_path, "r.txt", good[:cut] + b"\xff" + good[cut:])
    doc = ingest.read(path)
    assert doc.error is None and "\ufffd共收到申请3件" in doc.text
    assert doc.text.replace("\ufffd", "", 1) == TEXT * 4
    (note,) = doc.notes
    assert (note["line"], note["column"], note["bytes"]) == (3, 1, "ff")


def test_a_file_in_another_encoding_is_not_taken_for_utf8_with_bad_bytes(tmp_path):
    doc = ingest.read(write(tmp_path, "r.txt", (TEXT * 3).encode("gbk")))
    assert doc.text == TEXT * 3 and not doc.notes
