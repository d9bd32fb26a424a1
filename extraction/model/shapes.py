"""The shapes a model answers a section in: in goes a section and template version (and the
prompt version's shape, "keyed", "rows" or "report"); out comes the pydantic response model
instructor sends as the schema, with the hard identities as its validator, and the answer read
back as a Table (`to_table`). Extra keys are forbidden, so a model cannot invent a row.

The "report" shape asks for several sections in one call (`report_model`): one field per
section, named by its printed numeral (二 三 四), each holding that section's "rows" arrays.
One schema and one set of rules then serve the whole report instead of one per section.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationInfo, create_model, model_validator

from extraction import checks, template
from extraction.schema import Cell, Finding, Table
from extraction.tables.normalize import kept, parse_cell, unreadable
from extraction.template import Section, Version


def _identities(model: BaseModel, info: ValidationInfo) -> BaseModel:
    """Hard identities as a validator: a failure becomes the re-ask message, in Chinese."""
    context = info.context or {}
    if not context.get("check"):
        return model
    table, _ = to_table(model)
    failing = [f for f in checks.hard_checks(table) if f.failed]
    if failing:
        lines = "\n".join(f"- {f.formula}：{f.message}" for f in failing[:8])
        raise ValueError(context["reask"].replace("{failures}", lines))
    return model


def _bare_schema(schema: dict[str, Any]) -> None:
    """Drop pydantic's per-field titles: tokens the model pays for on every call, saying nothing."""
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


@cache
def _cells(width: int, printed_text: bool) -> type[RootModel]:
    """One row's cells as a named type, so the schema states it once and refers to it per row.

    Section 二 answers with the printed text of each cell, so 增1, 3773631元 and "/" reach the
    shared normaliser intact; sections 三 and 四 with integers, null for a blank.
    """
    item: Any = str if printed_text else int | None
    name = f"{'Texts' if printed_text else 'Counts'}{width}"
    return create_model(name, __base__=RootModel[Annotated[list[item], Field(min_length=width, max_length=width)]])


class Answer(BaseModel):
    """A section's answer; each generated subclass knows the section and version it answers."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_bare_schema)
    section: ClassVar[Section]
    version: ClassVar[Version]


@cache
def answer_model(section: Section, version: Version, shape: str = "keyed") -> type[Answer]:
    """The response model for one section, in the prompt version's shape.

    "keyed": a field per template row, one array of cells per row. "rows": the same cells with
    the row keys left out, as the schema's tokens cost more than the section text itself:
    section 三 as one array of rows (template order), sections 二 and 四 as one flat array of
    cells (row by row, as they are printed). The template maps them back to rows either way.
    """
    spec = template.spec(section, version)
    name = f"{section.title().replace('_', '')}{version}"
    validators = {"identities": model_validator(mode="after")(_identities)}
    if shape in ("rows", "report"):  # a report call's parts are read back as "rows" answers
        key = "rows" if section == "applications" else "cells"
        fields: dict[str, Any] = {key: (_rows_type(section, version), ...)}
        # The docstring is the tool's description in TOOLS mode (instructor's default is 15 tokens).
        model = create_model(name, __base__=CompactAnswer, __doc__="表格抄录", __validators__=validators, **fields)
    else:
        fields = {}
        for row in spec.rows:
            # Row labels and column order are in the prompt, beside the text; the schema stays bare.
            fields[row.key] = (_cells(len(row.columns), section == "proactive"), ...)
        model = create_model(name, __base__=Answer, __validators__=validators, **fields)
    model.section, model.version = section, version
    return model


def _exactly(n: int) -> Any:
    return Field(min_length=n, max_length=n)


def _rows_type(section: Section, version: Version) -> Any:
    """A section's cells in the "rows" shape: 三 as rows of 7, 二 and 四 as one flat array."""
    spec = template.spec(section, version)
    item: Any = str if section == "proactive" else int | None
    if section == "applications":
        row = Annotated[list[item], Field(min_length=7, max_length=7)]
        return Annotated[list[row], _exactly(len(spec.rows))]
    return Annotated[list[item], _exactly(sum(len(r.columns) for r in spec.rows))]


def _compact_schema(schema: dict[str, Any]) -> None:
    """The schema as few tokens as say the same: no titles below the top, `["integer", "null"]`
    for pydantic's anyOf of the two. The top title stays: it names the section and version."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("title", None)
            if node.get("anyOf") == [{"type": "integer"}, {"type": "null"}]:
                del node["anyOf"]
                node["type"] = ["integer", "null"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for value in schema.get("properties", {}).values():
        walk(value)


class CompactAnswer(Answer):
    """A section's answer as arrays in template order (the "rows" shape)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_compact_schema)


def row_values(answer: Answer) -> dict[str, list[Any]]:
    """Each template row's cells, as the answer gives them, whatever its shape."""
    rows = template.spec(answer.section, answer.version).rows
    if not isinstance(answer, CompactAnswer):
        return {row.key: list(getattr(answer, row.key).root) for row in rows}
    if hasattr(answer, "rows"):
        return {row.key: list(cells) for row, cells in zip(rows, answer.rows, strict=True)}
    cells, out = list(answer.cells), {}
    for row in rows:
        out[row.key], cells = cells[: len(row.columns)], cells[len(row.columns) :]
    return out


def to_table(answer: Answer) -> tuple[Table, list[Finding]]:
    """An answer as a Table; a proactive cell the normaliser cannot read is kept raw and flagged."""
    section, version = answer.section, answer.version
    table = Table.empty(section, version)
    findings: list[Finding] = []
    values = row_values(answer)
    for row in template.spec(section, version).rows:
        for column, value in zip(row.columns, values[row.key], strict=True):
            try:
                cell = Cell.of(value) if section != "proactive" else parse_cell(value, column.kind)
                table.set(row.key, column.key, kept(cell))
            except ValueError:
                table.set(row.key, column.key, Cell(raw=str(value)))
                findings.append(unreadable(section, "llm", row.key, column.key, column.label, column.kind, str(value)))
    return table, findings


# --- Several sections in one call -------------------------------------------------------------

# A report answer's field per section: the numeral the report prints before the section's heading.
PART_KEYS: dict[Section, str] = {"proactive": "二", "applications": "三", "review_litigation": "四"}
Parts = tuple[tuple[Section, Version], ...]


def _report_identities(model: BaseModel, info: ValidationInfo) -> BaseModel:
    """Every part's hard identities; the failures of all parts make one re-ask, each line under
    its section's numeral."""
    context = info.context or {}
    if not context.get("check"):
        return model
    lines = []
    for section, answer in parts_of(model).items():  # type: ignore[arg-type]
        table, _ = to_table(answer)
        lines += [f"- {PART_KEYS[section]} {f.formula}：{f.message}" for f in checks.hard_checks(table) if f.failed]
    if lines:
        raise ValueError(context["reask"].replace("{failures}", "\n".join(lines[:8])))
    return model


class ReportAnswer(BaseModel):
    """Several sections' answers in one: a field per section (二 三 四), in the "rows" shape."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_compact_schema)
    parts: ClassVar[Parts]


@cache
def report_model(parts: Parts) -> type[ReportAnswer]:
    """The response model of one call for the sections `parts` names (each with its template version)."""
    fields = {PART_KEYS[section]: (_rows_type(section, version), ...) for section, version in parts}
    validators = {"identities": model_validator(mode="after")(_report_identities)}
    model = create_model("Report", __base__=ReportAnswer, __doc__="表格抄录", __validators__=validators, **fields)
    model.parts = parts
    return model


def parts_of(answer: ReportAnswer) -> dict[Section, Answer]:
    """A report answer as one "rows" answer per section (identities not checked here)."""
    out: dict[Section, Answer] = {}
    for section, version in answer.parts:
        key = "rows" if section == "applications" else "cells"
        value = getattr(answer, PART_KEYS[section])
        out[section] = answer_model(section, version, "rows").model_validate({key: value}, context={"check": False})
    return out
