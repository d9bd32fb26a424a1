"""The typed values every extractor produces and every later stage consumes.

A table is a grid of cells keyed by the stable row and column keys of TEMPLATE.md and
validated against the template version it claims, so a layout parse, a model answer and a
reviewer's correction are the same kind of object and can be compared cell by cell.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from extraction import template
from extraction.template import Section, Version

Value = int | Decimal | None


class CellKind(StrEnum):
    number = "number"
    zero = "zero"
    blank = "blank"  # nothing printed: not a zero
    not_applicable = "not_applicable"  # "/", "-", "—"


class Cell(BaseModel):
    """One printed cell: its value, what was printed, and what the print means. Immutable: an
    edit replaces the cell, so one blank cell can stand in every empty place of a table."""

    model_config = ConfigDict(frozen=True)

    value: Value = None
    raw: str = ""
    kind: CellKind = CellKind.blank
    annotation: str | None = None  # "其中修订16件" in 22（其中修订16件）
    span: tuple[int, int] | None = None  # character offsets in the document text

    @model_validator(mode="after")
    def _kind_matches_value(self) -> Cell:
        if self.value is None and self.kind in (CellKind.number, CellKind.zero):
            raise ValueError("a number cell needs a value")
        if self.value is not None and self.kind in (CellKind.blank, CellKind.not_applicable):
            raise ValueError(f"a {self.kind.value} cell has no value")
        return self

    @classmethod
    def of(cls, value: Value, raw: str | None = None) -> Cell:
        """A cell from a bare value (a reviewer's edit, a model answer): None is blank."""
        if value is None:
            return cls(raw=raw or "")
        kind = CellKind.zero if value == 0 else CellKind.number
        return cls(value=value, raw=raw if raw is not None else str(value), kind=kind)


BLANK = Cell()  # nothing printed


class Table(BaseModel):
    """One of the three statistical tables, in one template version."""

    section: Section
    version: Version
    cells: dict[str, dict[str, Cell]]

    @model_validator(mode="after")
    def _keys_follow_template(self) -> Table:
        expected = template.spec(self.section, self.version)
        want = {row.key: {c.key for c in row.columns} for row in expected.rows}
        if set(self.cells) != set(want):
            missing = sorted(set(want) - set(self.cells))
            extra = sorted(set(self.cells) - set(want))
            raise ValueError(f"{self.section} {self.version}: missing rows {missing}, unknown rows {extra}")
        for row, cols in self.cells.items():
            if set(cols) != want[row]:
                raise ValueError(f"{self.section}.{row}: columns {sorted(cols)} != {sorted(want[row])}")
        return self

    @classmethod
    def empty(cls, section: Section, version: Version) -> Table:
        spec = template.spec(section, version)
        return cls(
            section=section,
            version=version,
            cells={row.key: {c.key: BLANK for c in row.columns} for row in spec.rows},
        )

    @classmethod
    def from_values(cls, section: Section, version: Version, values: dict[str, dict[str, Value]]) -> Table:
        table = cls.empty(section, version)
        for row, cols in values.items():
            for col, value in cols.items():
                table.set(row, col, Cell.of(value))
        return table

    def cell(self, row: str, column: str) -> Cell:
        return self.cells[row][column]

    def value(self, row: str, column: str) -> Value:
        return self.cells[row][column].value

    def set(self, row: str, column: str, cell: Cell) -> None:
        if column not in self.cells.get(row, {}):
            raise KeyError(f"{self.section} has no cell {row}.{column}")
        self.cells[row][column] = cell

    def values(self) -> dict[str, dict[str, Value]]:
        """The export shape: row -> column -> value, in template order."""
        spec = template.spec(self.section, self.version)
        return {row.key: {c.key: self.cells[row.key][c.key].value for c in row.columns} for row in spec.rows}


class Report(BaseModel):
    """The three tables of one report; a table the report lacks or that was unreadable is None."""

    proactive: Table | None = None
    applications: Table | None = None
    review_litigation: Table | None = None

    def table(self, section: Section) -> Table | None:
        return getattr(self, section)

    def tables(self) -> list[Table]:
        return [t for t in (self.proactive, self.applications, self.review_litigation) if t is not None]

    def align_versions(self) -> Report:
        """Section 四 is printed the same in both versions; it carries the report's version."""
        version = self.template_version()
        if self.review_litigation is not None and version is not None:
            self.review_litigation.version = version
        return self

    def template_version(self) -> Version | None:
        """The report's template as one word: section 二 decides, section 三 if 二 is missing."""
        for table in (self.proactive, self.applications):
            if table is not None:
                return table.version
        return None


Status = Literal["pass", "fail", "uncertain"]
Severity = Literal["hard", "soft"]


class Finding(BaseModel):
    """The outcome of one check or one parser doubt, with what a reviewer needs to act on it."""

    id: str
    severity: Severity
    status: Status
    formula: str  # the rule in words
    message: str  # the rule applied to these numbers, e.g. "一+二 = 8+0 = 8, 三(七)+四 = 6, off by 2"
    left: Value = None
    right: Value = None
    difference: Value = None
    cells: list[tuple[str, str, str]] = Field(default_factory=list)  # (section, row, column)
    suggestion: Value = None  # e.g. the sum a blank total would hold

    @classmethod
    def blocking(cls, id: str, formula: str, message: str, **extra: object) -> Finding:
        """A hard failure: the document waits for a person."""
        return cls(id=id, severity="hard", status="fail", formula=formula, message=message, **extra)  # type: ignore[arg-type]

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    @property
    def blocks_acceptance(self) -> bool:
        return self.status == "fail" and self.severity == "hard"


class Extraction(BaseModel):
    """What one extractor made of one document."""

    report: Report
    extractor: str  # "layout", "llm:<model>", "review"
    agency: str | None = None
    year: int | None = None
    findings: list[Finding] = Field(default_factory=list)  # the extractor's own doubts
    layouts: dict[str, str] = Field(default_factory=dict)  # section -> layout family read
