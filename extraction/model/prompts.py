"""Loading the versioned prompt files of `prompts/`: the words sent to a model live there, not here."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT = "v4"
DEFAULT_VERSION = os.environ.get("XXGK_PROMPT_VERSION", DEFAULT)
_FILES = ("system", "proactive", "applications", "review_litigation", "reask")
# How the answer is shaped, which the prompt's words describe: "keyed" (a field per template row,
# v1), "rows" (the section's rows or cells as arrays in template order, v2: a schema of a few
# dozen tokens instead of several hundred) or "report" (the located sections in one call, each
# part in the "rows" shape, v3: one schema and one set of rules per report instead of per
# section; the section files then hold only what one part asks, and `report.md` frames the call
# around them). Read from the folder's shape.txt, "keyed" without one.
SHAPES = ("keyed", "rows", "report")
# How the report's text is quoted: "verbatim" (v1-v3, and the default without the file) or
# "condensed" (v4: the row labels of a located section written as short tags, its values as
# printed; `condensed.condense`). Read from the folder's quote.txt.
QUOTES = ("verbatim", "condensed")


def prompts_dir() -> Path:
    configured = os.environ.get("XXGK_PROMPTS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "prompts"


@dataclass(frozen=True)
class PromptSet:
    version: str  # "v1@3f2a9c1e": folder name and a hash of the files, recorded with every extraction
    texts: dict[str, str]
    shape: str = "keyed"
    quote: str = "verbatim"

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
    shape_file = folder / "shape.txt"
    shape = shape_file.read_text(encoding="utf-8").strip() if shape_file.exists() else "keyed"
    if shape not in SHAPES:
        raise ValueError(f"prompt version {version!r}: shape.txt says {shape!r}; known shapes: {SHAPES}")
    quote_file = folder / "quote.txt"
    quote = quote_file.read_text(encoding="utf-8").strip() if quote_file.exists() else "verbatim"
    if quote not in QUOTES or (quote != "verbatim" and shape != "report"):
        raise ValueError(
            f"prompt version {version!r}: quote.txt says {quote!r}; known: {QUOTES} (condensed needs shape report)"
        )
    files = (*_FILES, "report") if shape == "report" else _FILES
    texts = {name: (folder / f"{name}.md").read_text(encoding="utf-8").strip() for name in files}
    material = (
        [texts[n] for n in files] + ([shape] if shape != "keyed" else []) + ([quote] if quote != "verbatim" else [])
    )
    digest = hashlib.sha256("\0".join(material).encode()).hexdigest()[:8]
    return PromptSet(f"{version}@{digest}", texts, shape, quote)
