"""The README's commands, run in order as a new user would type them, in a copy of the repository's data.

A command that cannot run here is skipped by a rule below (never by editing the README): setting
up the environment this test already runs in, anything that needs a model endpoint, a package
index or a browser. Every other command must exit 0 as written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# Why a command is not run, by pattern. The first that matches names the reason.
SKIPS: tuple[tuple[str, str], ...] = (
    (r"^python3? -m venv ", "sets up the environment this test runs in"),
    (r"\bpip install\b", "installs packages (a package index; the test environment has them)"),
    (r"\bpytest\b", "is this test suite"),
    (r"^xxgk review\b", "serves the review app for a browser"),
    (r"XXGK_LLM_|llama_cpp|ollama|vllm", "needs a model endpoint"),
    (r"^python bench/", "reads the project's shared corpus beside the clone"),
)
# `datasette FILE` serves until stopped: run it with --get instead, which makes the same app answer
# one request in process (the metadata and the store must load as written).
DATASETTE_PAGE = "/samples/cells.json?_size=1"
# The README's load example (2,000 generated reports) is run with fewer: this test checks that it
# works as written, bench/ measures how long it takes.
SMALLER = (r"--count \d+", "--count 30")


@dataclass(frozen=True)
class Command:
    line: int
    text: str
    block: str = ""  # the whole code block it is in


def _commands(markdown: str) -> list[Command]:
    """Shell commands in README order: each line of ```bash blocks (split at &&, comments
    dropped) and inline `xxgk ... --db ...` examples in the prose; ```python blocks as one each."""
    out: list[Command] = []
    fence = re.compile(r"^```(\w*)\s*$")
    block: str | None = None
    body: list[tuple[int, str]] = []
    pending: list[tuple[int, str]] = []
    for number, line in enumerate(markdown.splitlines(), 1):
        match = fence.match(line)
        if match and block is None:
            block, body, pending = match.group(1), [], []
            continue
        if match:
            text = "\n".join(t for _, t in body)
            if block == "python":
                out.append(Command(body[0][0], f"python3 - <<'PY'\n{text}\nPY", text))
            elif block == "bash":
                out += [Command(n, part, text) for n, part in pending]
            block = None
            continue
        if block == "bash":
            body.append((number, line))
            command = re.sub(r"(^|\s)#.*$", "", line).strip()
            pending += [(number, part.strip()) for part in command.split(" && ") if part.strip()]
        elif block == "python":
            body.append((number, line))
        elif block is None:
            out += [Command(number, m) for m in re.findall(r"`(xxgk [^`]*--db [^`]*)`", line)]
    return out


def _skip_reason(command: str, block: str = "") -> str | None:
    """Why a command is not run; every command of a block that sets a model endpoint needs it."""
    if "XXGK_LLM_BASE_URL=" in block:
        return "its block sets a model endpoint"
    plain = command.removeprefix(".venv/bin/")
    return next((why for pattern, why in SKIPS if re.search(pattern, plain)), None)


def _as_run(command: str) -> str:
    if re.match(r"^datasette \S+\.db\b", command):
        return f"{command} --get '{DATASETTE_PAGE}'"
    if command.startswith(("xxgk generate", ".venv/bin/xxgk generate")):
        return re.sub(SMALLER[0], SMALLER[1], command)
    return command


def test_readme_commands_are_found_in_every_section():
    commands = [c.text for c in _commands(README.read_text(encoding="utf-8"))]
    for expected in (
        ".venv/bin/xxgk run data/samples --db samples.db",
        "xxgk show 004 --db samples.db",
        "xxgk export --db samples.db --format xlsx -o tables.xlsx",
        "xxgk datasette-metadata --db samples.db -o metadata.json",
        "xxgk years 下城区卫生健康局 --db samples.db",
        "xxgk eval --db samples.db --compare 1 2",
    ):
        assert expected in commands
    assert any(c.startswith("python3 - <<'PY'\nimport extraction") for c in commands)
    assert _skip_reason("export XXGK_LLM_BASE_URL=http://localhost:11434/v1 XXGK_LLM_MODEL=qwen2.5:7b")
    assert _skip_reason(".venv/bin/pytest -q") and not _skip_reason("xxgk status --db samples.db")


def test_the_extras_the_readme_installs_exist():
    """The pip lines are not run (no package index), but an extra they name must be declared."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    named = re.findall(r"-e '\.\[(\w+)\]'", README.read_text(encoding="utf-8"))
    assert {"test", "browse", "parquet"} <= set(named)
    assert set(named) <= set(declared), set(named) - set(declared)


def test_every_readme_command_works_as_written_in_order(tmp_path):
    """From a fresh copy of the data, every command the README shows exits 0, in README order."""
    work = tmp_path / "clone"
    work.mkdir()
    for folder in ("data", "docs", "prompts"):
        shutil.copytree(ROOT / folder, work / folder)
    # `.venv` is the environment this test runs in, as the quick start made it.
    venv = Path(sys.executable).parent.parent
    (work / ".venv").symlink_to(venv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XXGK_", "OPENAI_"))}
    # The examples type bare `xxgk` "in a new shell, after source .venv/bin/activate".
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    ran, skipped = [], []
    for command in _commands(README.read_text(encoding="utf-8")):
        reason = _skip_reason(command.text, command.block)
        if reason:
            skipped.append((command.text, reason))
            continue
        started = time.perf_counter()
        result = subprocess.run(
            ["bash", "-c", _as_run(command.text)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (
            f"README line {command.line}: {command.text!r} exited {result.returncode}\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
        ran.append(command.text)
        print(f"{time.perf_counter() - started:5.1f}s  {command.text[:80]}")
    assert len(ran) >= 15, ran
    for made in ("samples.db", "metadata.json", "cells.csv", "applications.csv", "tables.xlsx", "eval.html"):
        assert (work / made).is_file(), made
    assert (work / "gen" / "eval.html").is_file()
