"""Claims: one run extracts a document at a time.

In: a store, a document id, who asks (`owner`) and the status the run found it in. Out: "go",
or why not ("done", "taken", "killed"). A claim is kept on the document row, so runs sharing a
store (other processes, other machines) see it; a document whose extraction never finishes
MAX_ATTEMPTS times (it kills its worker: memory, time) is failed instead of killing every rerun.
`store` re-exports these calls: callers keep using `store.claim`.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import UTC, datetime

import sqlite_utils

from extraction.storage import store

# Claims never finished before a document is failed as the one killing its worker.
MAX_ATTEMPTS = 2
# A claim by another machine is taken as abandoned after this long (its process cannot be asked).
_STALE_CLAIM_S = 6 * 3600


def owner() -> str:
    """Who claims: this machine, this process, and a token per run (runs in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _alive(claim: str, claimed_at: str | None) -> bool:
    host, _, rest = claim.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname():
        stamp = datetime.fromisoformat(claimed_at) if claimed_at else None
        return stamp is not None and (datetime.now(UTC) - stamp).total_seconds() < _STALE_CLAIM_S
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def claim(db: sqlite_utils.Database, doc_id: str, by: str, status: str) -> str:
    """Take a document to extract: "go", or why not.

    "done": its status is no longer `status` (another run filed it); "taken": another live run
    holds it; "killed": its extraction was started MAX_ATTEMPTS times and never finished, so it
    is now failed saying so, instead of taking down every rerun with it.
    """
    with store.transaction(db):
        rows = list(db.query("select status, claim, claimed_at, attempts from documents where id = ?", [doc_id]))
        if not rows or rows[0]["status"] != status:
            return "done"
        row = rows[0]
        if row["claim"] and row["claim"] != by and _alive(row["claim"], row["claimed_at"]):
            return "taken"
        attempts = row["attempts"] or 0
        if attempts >= MAX_ATTEMPTS and status == "ingested":
            store.set_failed(
                db,
                doc_id,
                f"killed its worker: extraction started {attempts} times and never finished (the process died, "
                "out of memory or killed); not tried again",
            )
            return "killed"
        db["documents"].update(doc_id, {"claim": by, "claimed_at": store.now(), "attempts": attempts + 1})
    return "go"


def release(db: sqlite_utils.Database, doc_ids: list[str], by: str) -> None:
    """Give back claims a run holds but did not finish (it stopped on an error)."""
    with store.transaction(db):
        for doc_id in doc_ids:
            db.execute("update documents set claim = null where id = ? and claim = ?", [doc_id, by])
