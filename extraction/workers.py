"""Budgets of time and memory per document: reading and extracting run in worker processes.

One hostile file (a text whose digit runs the splitter cuts for ever, a page that renders to
gigapixels, an archive that inflates to gigabytes) must cost one failed document, not the
machine or the batch. Budgets inside each reader refuse the cases known in advance; these are
the backstop for every other one. A worker process runs one document at a time under a memory
limit (RLIMIT_DATA, set when the worker starts: its data may grow by the budget beyond what it
holds then); the parent stops a worker that runs past the time limit and starts another. What
came of a document is sent back to the parent, which keeps every store write (so the store
never sees a half-done document, whatever happens to a worker). Workers are forked, so they
start in milliseconds with the library already imported, and are reused across documents.

`pebble`'s process pool gives the per-task timeout, the kill and the restart; this module adds
the budgets, the wording of what went wrong, and a bounded, in-order window of work.
"""

from __future__ import annotations

import multiprocessing
import re
import resource
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from multiprocessing import popen_fork  # noqa: F401  (loaded by the first fork otherwise: see below)
from types import TracebackType
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from extraction.read.ingest import env_number

DEFAULT_SECONDS = 60.0
# A scanned report is the most a real document asks for: OCR of a 6-page scan (pages rendered at
# 150 dpi) holds 1.1 GB resident and grows its data by some 1.3 GB, so 1 GB would fail every scan.
# The hostile files' own budgets (pixels, inflated size, cells, pages) stop them far below this.
DEFAULT_MEMORY_MB = 2048.0
# popen_fork is imported with this module, not at the first fork: a process that has given up its
# privileges since (a service dropping to an unprivileged user) may no longer read the library.
# Library failures worded into a reader's own error when memory ran out inside them (numpy and
# Pillow raise MemoryError, onnxruntime reports std::bad_alloc).
_OUT_OF_MEMORY = re.compile(r"MemoryError|bad_alloc|Cannot allocate memory")

# Workers are forked, deliberately, though Python 3.12+ warns (DeprecationWarning) that a fork with
# threads running may deadlock the child. The threads at a fork are pebble's own (the pool's
# manager, scheduler and result reader), which share no lock with a worker but process-shared
# semaphores; the command line's progress bars run no thread of their own for this reason
# (cli/ui.progress). forkserver and spawn were measured and not taken:
# - a worker must be the caller as it is when the batch starts (its user, limits, environment):
#   both exec a fresh interpreter and a resource tracker, which a service that has dropped its
#   privileges cannot (tests/read/test_ingest.py runs one as nobody), and a fork server started
#   before the drop would read every file as root;
# - one file through `xxgk run` (2 cores, shared): fork 3.3-4.2 s, forkserver 5.7-7.0 s (its server
#   imports the library first), spawn 14.6-19.1 s (every worker imports it); see bench/README.md.
START_METHOD = "fork"

T = TypeVar("T")
# In a worker process: what its pool handed down at the fork (`Workers(shared=...)`), such as a
# counter in shared memory, which cannot travel pickled with each job. Set once per worker.
_inherited: list[Any] = []


def inherited() -> Any:
    """In a worker: the object its pool was given as `shared` (None in the parent)."""
    return _inherited[0] if _inherited else None


@dataclass(frozen=True)
class Budget:
    """What one document may cost: wall seconds and megabytes, per step (reading, extracting).

    The time limit counts from the moment a worker starts on the document; waiting for the
    model is bounded by the model's own settings (XXGK_LLM_DEADLINE per request, the token
    budget per report, the breaker), so an extraction that asks the model gets that on top.
    """

    seconds: float = DEFAULT_SECONDS
    memory_mb: float = DEFAULT_MEMORY_MB

    @classmethod
    def from_env(cls, seconds: float | None = None, memory_mb: float | None = None) -> Budget:
        """Arguments first, then XXGK_DOC_SECONDS and XXGK_DOC_MEMORY_MB; a bad value is a one-line SettingsError."""
        return cls(
            seconds=seconds if seconds is not None else env_number("XXGK_DOC_SECONDS", DEFAULT_SECONDS, float),
            memory_mb=memory_mb
            if memory_mb is not None
            else env_number("XXGK_DOC_MEMORY_MB", DEFAULT_MEMORY_MB, float),
        )

    def too_slow(self, doing: str, seconds: float | None = None) -> str:
        return (
            f"took longer than {seconds or self.seconds:g} s to {doing}: stopped (the per-document time limit; "
            "raise it with --doc-seconds or XXGK_DOC_SECONDS)"
        )

    def too_big(self, doing: str) -> str:
        return (
            f"needed more than {_size(self.memory_mb)} of memory to {doing}: stopped (the per-document memory "
            "limit; raise it with --doc-memory-mb or XXGK_DOC_MEMORY_MB)"
        )

    def died(self, doing: str, exitcode: int | None) -> str:
        how = _exit(exitcode)
        return (
            f"its worker process died while trying to {doing} ({how}): a library crashed on the file, or it "
            f"needed more than the {_size(self.memory_mb)} memory limit (--doc-memory-mb, XXGK_DOC_MEMORY_MB)"
        )


def _size(mb: float) -> str:
    return f"{mb / 1024:g} GB" if mb >= 1024 and mb % 256 == 0 else f"{mb:g} MB"


def _exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


@dataclass(frozen=True)
class Failed:
    """A document's step that ended without a result: over a budget, its worker died, or it
    crashed; `reason` is worded for the user and goes to the store as the document's error."""

    reason: str


@dataclass(frozen=True)
class Job:
    """One step of one document for a worker: `function(*args)`, allowed `seconds` (None: the
    budget's), described as `doing` ("read it") in what a user is told when it goes wrong."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    doing: str
    seconds: float | None = None


def out_of_memory(error: str | None) -> bool:
    """Whether a reader's own error says memory ran out inside a library."""
    return bool(error) and _OUT_OF_MEMORY.search(error or "") is not None


def _limit_memory(megabytes: float) -> None:
    """In a new worker: its data (heap and private mappings) may grow by `megabytes` from here.

    RLIMIT_DATA counts memory written to, not address space merely reserved (thread arenas,
    onnxruntime's pools), so it is the process's real appetite; an allocation past it raises
    MemoryError in Python (std::bad_alloc in C++ libraries) instead of waking the OOM killer.
    """
    budget = int(megabytes * 1024 * 1024)
    try:
        with open("/proc/self/status") as status:
            found = re.search(r"VmData:\s+(\d+) kB", status.read())
        held = int(found.group(1)) * 1024 if found else 0
    except OSError:  # not Linux: the budget is then the whole process's
        held = 0
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    soft = held + budget if hard == resource.RLIM_INFINITY else min(held + budget, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def _start(megabytes: float, shared: Any) -> None:
    """A new worker's first act: its memory limit, and what its pool shares with it."""
    _limit_memory(megabytes)
    _inherited[:] = [shared]


def _guarded(function: Callable[..., Any], args: tuple[Any, ...], budget: Budget, doing: str) -> Any:
    """Runs in the worker: the step, with running out of memory turned into its Failed."""
    try:
        return function(*args)
    except MemoryError:
        return Failed(budget.too_big(doing))


class Workers:
    """A pool of worker processes, each with the memory limit, for one batch.

        with Workers(budget, processes=2) as pool:
            for item, result in pool.run(items, start):
                ...  # result: what start returned (work done in the parent), the job's value, or Failed

    Used as a context manager so that no worker outlives its batch. `shared` reaches every
    worker at its fork (see `inherited`): for what the batch's workers keep in common.
    """

    def __init__(self, budget: Budget, processes: int = 1, shared: Any = None) -> None:
        self.budget = budget
        self.processes = max(1, processes)
        self.shared = shared
        self._pool: ProcessPool | None = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._pool is None:  # nothing was handed to a worker
            return
        if kind is None:
            self._pool.close()
        else:  # stopped (an error, Ctrl-C): the workers' documents are abandoned, not waited for
            self._pool.stop()
        self._pool.join()
        self._pool = None

    def _started(self) -> ProcessPool:
        """The pool, started with the first job: a rerun that finds every file stored forks nothing."""
        if self._pool is None:
            self._pool = ProcessPool(
                max_workers=self.processes,
                initializer=_start,
                initargs=(self.budget.memory_mb, self.shared),
                context=multiprocessing.get_context(START_METHOD),
            )
        return self._pool

    def run(self, items: Iterable[T], start: Callable[[T], Any]) -> Iterator[tuple[T, Any]]:
        """Each item with its result, in the order given, a few documents in flight at a time.

        `start(item)` is called in the parent just before the item is handed to a worker (it
        can claim the document then) and returns a Job for a worker, or anything else as the
        item's result. At most one item per worker waits besides those running, so thousands
        of documents are never all in memory, and the parent files one document while the
        workers read or extract the next.
        """
        window = self.processes + 1
        flight: deque[tuple[T, Any, Job | None]] = deque()
        for item in items:
            begun = start(item)
            if isinstance(begun, Job):
                flight.append((item, self._submit(begun), begun))
            else:
                flight.append((item, begun, None))
            if len(flight) >= window:
                yield self._result(*flight.popleft())
        while flight:
            yield self._result(*flight.popleft())

    def _submit(self, job: Job) -> Future:
        seconds = job.seconds if job.seconds is not None else self.budget.seconds
        return self._started().schedule(
            _guarded, args=(job.function, job.args, self.budget, job.doing), timeout=seconds
        )

    def _result(self, item: T, begun: Any, job: Job | None) -> tuple[T, Any]:
        if job is None:
            return item, begun
        try:
            return item, begun.result()
        except FutureTimeout:
            return item, Failed(self.budget.too_slow(job.doing, job.seconds))
        except ProcessExpired as exc:
            return item, Failed(self.budget.died(job.doing, exc.exitcode))
        except Exception as exc:  # the step raised (its own errors are its to word): one document fails
            return item, Failed(f"crashed while trying to {job.doing}: {type(exc).__name__}: {exc}")
