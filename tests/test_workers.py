"""Worker processes with a time and a memory budget: a step over one fails naming it, the next
step runs in a fresh worker, results come back in order, and workers are reused."""

import os
import signal
import time

import pytest

from extraction import workers
from extraction.read.ingest import SettingsError


def sleep_then(seconds: float, value: str) -> str:
    time.sleep(seconds)
    return value


def allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)  # written, so it is really held
    return len(block)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def pid() -> int:
    return os.getpid()


def environment(name: str) -> str | None:
    return os.environ.get(name)


def run(budget, jobs, processes=1):
    with workers.Workers(budget, processes) as pool:
        return [result for _, result in pool.run(range(len(jobs)), lambda i: jobs[i])]


def test_a_step_past_the_time_limit_fails_naming_it_and_the_next_step_runs():
    started = time.monotonic()
    results = run(
        workers.Budget(seconds=0.5),
        [workers.Job(sleep_then, (30, "late"), "read it"), workers.Job(sleep_then, (0, "next"), "read it")],
    )
    assert isinstance(results[0], workers.Failed)
    assert "took longer than 0.5 s to read it" in results[0].reason and "XXGK_DOC_SECONDS" in results[0].reason
    assert results[1] == "next"
    assert time.monotonic() - started < 20  # the sleeper was stopped, not waited for


def test_a_step_past_the_memory_limit_fails_naming_it_and_the_next_step_runs():
    results = run(
        workers.Budget(memory_mb=64),
        [workers.Job(allocate, (512,), "extract its tables"), workers.Job(allocate, (16,), "extract its tables")],
    )
    assert isinstance(results[0], workers.Failed)
    assert "needed more than 64 MB of memory to extract its tables" in results[0].reason
    assert "XXGK_DOC_MEMORY_MB" in results[0].reason
    assert results[1] == 16 * 1024 * 1024


def test_a_worker_that_dies_fails_its_step_only():
    results = run(workers.Budget(), [workers.Job(die, (), "read it"), workers.Job(sleep_then, (0, "after"), "read it")])
    assert isinstance(results[0], workers.Failed)
    assert "worker process died while trying to read it (signal SIGKILL)" in results[0].reason
    assert results[1] == "after"


def test_a_step_that_raises_fails_with_the_error():
    (result,) = run(workers.Budget(), [workers.Job(int, ("five",), "read it")])
    assert isinstance(result, workers.Failed) and "ValueError" in result.reason


def test_a_job_may_have_its_own_time_limit():
    (result,) = run(workers.Budget(seconds=30), [workers.Job(sleep_then, (30, "late"), "extract its tables", 0.5)])
    assert isinstance(result, workers.Failed) and "longer than 0.5 s" in result.reason


def test_workers_are_reused_across_documents():
    pids = run(workers.Budget(), [workers.Job(pid, (), "read it") for _ in range(6)], processes=2)
    assert len(set(pids)) <= 2 and os.getpid() not in pids


def test_results_come_in_order_and_few_documents_are_started_ahead():
    started: list[int] = []
    done: list[int] = []

    def start(i: int):
        started.append(i)
        if i % 3 == 0:
            return f"kept {i}"  # settled in the parent (another run has it, say)
        return workers.Job(sleep_then, (0.2 if i == 1 else 0, f"read {i}"), "read it")

    with workers.Workers(workers.Budget(), processes=2) as pool:
        for i, result in pool.run(range(9), start):
            assert len(started) - len(done) <= 3  # the two workers' and one waiting, never the whole batch
            done.append(i)
            assert result == (f"kept {i}" if i % 3 == 0 else f"read {i}")
    assert done == list(range(9))


def test_budgets_come_from_arguments_then_the_environment(monkeypatch):
    monkeypatch.setenv("XXGK_DOC_SECONDS", "5")
    monkeypatch.setenv("XXGK_DOC_MEMORY_MB", "2048")
    assert workers.Budget.from_env() == workers.Budget(seconds=5, memory_mb=2048)
    assert workers.Budget.from_env(seconds=1).seconds == 1
    monkeypatch.delenv("XXGK_DOC_SECONDS")
    monkeypatch.delenv("XXGK_DOC_MEMORY_MB")
    assert workers.Budget.from_env() == workers.Budget(seconds=60, memory_mb=2048)


@pytest.mark.parametrize("raw", ["1GB", "0", "-3"])
def test_a_bad_budget_setting_is_one_line_naming_it(monkeypatch, raw):
    monkeypatch.setenv("XXGK_DOC_MEMORY_MB", raw)
    with pytest.raises(SettingsError) as caught:
        workers.Budget.from_env()
    assert "XXGK_DOC_MEMORY_MB" in str(caught.value) and "\n" not in str(caught.value)


def test_the_memory_limit_names_gigabytes_when_it_is_whole():
    assert "more than 2 GB of memory" in workers.Budget().too_big("read it")
    assert "more than 300 MB of memory" in workers.Budget(memory_mb=300).too_big("read it")


def test_a_batch_s_workers_are_the_caller_as_it_is_when_the_batch_starts(monkeypatch):
    # Forked, not served by a fork server started with an earlier batch (workers.START_METHOD):
    # what the caller changed since (its environment here; its user in test_ingest) reaches them.
    monkeypatch.delenv("XXGK_WORKER_PROBE", raising=False)
    assert run(workers.Budget(), [workers.Job(environment, ("XXGK_WORKER_PROBE",), "read it")]) == [None]
    monkeypatch.setenv("XXGK_WORKER_PROBE", "changed since")
    assert run(workers.Budget(), [workers.Job(environment, ("XXGK_WORKER_PROBE",), "read it")]) == ["changed since"]
