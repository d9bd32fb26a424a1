"""Loading the versioned prompt files of `prompts/`: the words sent to a model live there, not here."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_VERSION = os.environ.get("XXGK_PROMPT_VERSION", "v1")
_FILES = ("system", "proactive", "applications", "review_litigation", "reask")


def prompts_dir() -> Path:
    configured = os.environ.get("XXGK_PROMPTS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "prompts"


@dataclass(frozen=True)
class PromptSet:
    version: str  # "v1@3f2a9c1e": folder name and a hash of the files, recorded with every extraction
    texts: dict[str, str]

    def render(self, name: str, **values: str) -> str:
        text = self.texts[name]
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text


def load(version: str = DEFAULT_VERSION) -> PromptSet:
    folder = prompts_dir() / version
    if not folder.is_dir():
        known = sorted(p.name for p in prompts_dir().iterdir() if p.is_dir())
        raise FileNotFoundError(f"no prompt version {version!r} in {prompts_dir()}; known: {known}")
    texts = {name: (folder / f"{name}.md").read_text(encoding="utf-8").strip() for name in _FILES}
    digest = hashlib.sha256("\0".join(texts[n] for n in _FILES).encode()).hexdigest()[:8]
    return PromptSet(f"{version}@{digest}", texts)
