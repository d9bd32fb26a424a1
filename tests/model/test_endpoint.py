"""A misconfigured or failing model endpoint, named as such: before the batch, per request, mid-batch."""

import re
import socket
import time

import pytest
from conftest import GOLD, SAMPLES
from llm_double import ScriptedServer
from typer.testing import CliRunner

from extraction import pipeline
from extraction.cli import app
from extraction.model import endpoint, llm, prompts
from extraction.storage import store
from model.test_llm import applications_answer, proactive_answer, review_answer

TEXT = SAMPLES[3].read_text(encoding="utf-8")  # 003: a report every check accepts
GOLD_003 = GOLD[SAMPLES[3].stem]


def config(url, **overrides):
    values = {"base_url": url, "model": "double", "timeout": 5.0, "http_retries": 0}
    values.update(overrides)
    return llm.LLMConfig(**values)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_endpoint_that_is_down_fails_before_the_batch_and_records_nothing(db):
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(endpoint.EndpointError, match=f"{url} is not reachable"):
        pipeline.prepare(db, "llm", config(url))
    assert store.endpoint_mode(db, url, "double") is None


def test_a_refused_key_is_named_and_no_mode_is_recorded(db):
    with ScriptedServer(api_key="right") as s:
        with pytest.raises(endpoint.EndpointError, match="refused the API key"):
            pipeline.prepare(db, "cascade", config(s.base_url, api_key="wrong"))
        assert store.endpoint_mode(db, s.base_url, "double") is None


def test_an_unknown_model_lists_the_models_the_server_serves(db):
    with ScriptedServer(models=("qwen2.5-7b", "llama3")) as s:
        with pytest.raises(
            endpoint.EndpointError, match=re.escape("does not serve model 'double'; it serves: qwen2.5-7b, llama3")
        ):
            pipeline.prepare(db, "llm", config(s.base_url))
        assert s.requests == []  # the mode probe never ran


def test_a_probe_that_fails_on_the_server_is_not_recorded(db):
    # The model list is fine but every completion fails: no mode may be stored for a later run to trust.
    with ScriptedServer([{"status": 503}] * 4) as s:
        with pytest.raises(endpoint.EndpointError, match="HTTP 503"):
            pipeline.prepare(db, "llm", config(s.base_url))
        assert store.endpoint_mode(db, s.base_url, "double") is None


def test_the_cli_exits_non_zero_with_one_line_naming_the_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    store.open_db(tmp_path / "x.db")  # an existing store: `extract` refuses to make one
    result = CliRunner().invoke(
        app,
        ["extract", "--db", str(tmp_path / "x.db"), "--extractor", "llm", "--llm-base-url", url, "--llm-model", "m"],
        terminal_width=400,
    )
    assert result.exit_code == 2
    assert "not reachable" in result.output and url in result.output
    assert "Traceback" not in result.output


def test_a_server_trickling_bytes_is_cut_at_the_total_deadline():
    with ScriptedServer([{"trickle": 3.0}]) as s:
        started = time.monotonic()
        result = llm.extract(
            TEXT,
            config(s.base_url, deadline=0.8, timeout=5.0),
            prompts.load("v1"),
            "TOOLS",
            wanted=("review_litigation",),
        )
        took = time.monotonic() - started
    assert took < 2.5  # a per-read timeout of 5 s would have waited the whole 3 s
    assert [f.id for f in result.findings] == ["review_litigation.llm.request_failed"]


def test_the_breaker_stops_asking_after_consecutive_failures():
    breaker = endpoint.Breaker(limit=2)
    with ScriptedServer([{"status": 500}] * 10) as s:
        result = llm.extract(TEXT, config(s.base_url), prompts.load("v1"), "TOOLS", breaker=breaker)
    assert len(s.requests) == 2  # 二 and 三 failed; 四 was not asked
    ids = [f.id for f in result.findings]
    assert ids == [
        "proactive.llm.request_failed",
        "applications.llm.request_failed",
        "review_litigation.llm.model_unavailable",
    ]
    assert all(len(f.message) < 240 and "<failed_attempts>" not in f.message for f in result.findings)


def test_each_request_caps_the_completion_size():
    with ScriptedServer([{"status": 500}]) as s:
        llm.extract(
            TEXT,
            config(s.base_url, max_completion_tokens=1234),
            prompts.load("v1"),
            "TOOLS",
            wanted=("review_litigation",),
        )
    assert s.requests[0]["max_tokens"] == 1234


def _run_cli(tmp_path, url, *extra, env=None):
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "r.txt").write_text(TEXT, encoding="utf-8")
    db_path = tmp_path / "x.db"
    args = ["run", str(inbox), "--db", str(db_path), "--extractor", "llm", "--llm-base-url", url, *extra]
    result = CliRunner().invoke(app, args, env={"XXGK_LLM_TIMEOUT": "0.5", **(env or {})}, terminal_width=400)
    return result, store.open_db(db_path)


def _nothing_recorded(db, url, model="double"):
    assert store.endpoint_mode(db, url, model) is None  # no mode for a later run to trust
    assert "extractions" not in db.table_names() or db["extractions"].count == 0
    assert "documents" not in db.table_names() or db["documents"].count == 0  # the batch never started


def _one_line_error(result, *words):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "<failed_attempts>" not in result.output
    # One message (the terminal may wrap it): no document table, no library output around it.
    text = " ".join(result.output.split())
    assert text.startswith("the model endpoint ") and "Documents" not in text, result.output
    assert all(" ".join(w.split()) in text for w in words), text


@pytest.mark.parametrize(
    ("server", "extra", "words"),
    [
        ({"api_key": "right"}, ["--llm-model", "double", "--llm-api-key", "wrong"], ["refused the API key"]),
        ({"models": ("qwen2.5-7b",)}, ["--llm-model", "double"], ["does not serve model 'double'", "qwen2.5-7b"]),
        ({"script": [{"status": 503}] * 4}, ["--llm-model", "double"], ["HTTP 503"]),
        ({"rejects_tools": True}, ["--llm-model", "double", "--llm-mode", "TOOLS"], ["rejects TOOLS requests"]),
    ],
    ids=["401", "unknown-model", "failed-probe", "wrong-mode"],
)
def test_a_misconfigured_run_names_the_cause_in_one_line_exits_2_and_records_nothing(tmp_path, server, extra, words):
    with ScriptedServer(**server) as s:
        result, db = _run_cli(tmp_path, s.base_url, *extra)
        _one_line_error(result, s.base_url, *words)
        _nothing_recorded(db, s.base_url)


def test_an_endpoint_that_is_down_stops_xxgk_run_before_anything_is_ingested(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    result, db = _run_cli(tmp_path, url, "--llm-model", "double")
    _one_line_error(result, url, "not reachable")
    _nothing_recorded(db, url)


@pytest.mark.parametrize("mode", [None, "TOOLS"], ids=["probed", "mode-given"])
def test_a_server_that_never_answers_is_named_after_the_client_timeout(tmp_path, mode):
    # Every completion hangs longer than the 0.5 s client timeout; the probe (or the mode check) gives up.
    with ScriptedServer(stalls=2.0) as s:
        started = time.monotonic()
        extra = ["--llm-model", "double", *(["--llm-mode", mode] if mode else [])]
        result, db = _run_cli(tmp_path, s.base_url, *extra)
        took = time.monotonic() - started
        _one_line_error(result, s.base_url, "did not answer in time")
        _nothing_recorded(db, s.base_url)
    assert took < 4.0  # at most two tries of 0.5 s each, not the 300 s deadline


def test_a_later_good_run_after_a_wrong_mode_reads_the_report(tmp_path):
    with ScriptedServer(rejects_tools=True) as s:
        failed, _ = _run_cli(tmp_path, s.base_url, "--llm-model", "double", "--llm-mode", "TOOLS")
    assert failed.exit_code == 2
    whole = {"proactive": proactive_answer(TEXT), "applications": applications_answer(GOLD_003)}
    answers = [{"json": {**whole, "review_litigation": review_answer(GOLD_003)}}]  # one report call
    with ScriptedServer(answers) as s:
        result, db = _run_cli(tmp_path, s.base_url, "--llm-model", "double", "--llm-mode", "JSON_SCHEMA")
    assert result.exit_code == 0, result.output
    assert {k: n for k, n in store.status_counts(db).items() if n} == {"accepted": 1}
    assert len(s.checks) == 1 and len(s.requests) == 1  # one mode check for the batch, one call for the report
