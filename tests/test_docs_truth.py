"""Docs that contradict the code are defects: documented defaults and cited controls, checked.

Every configuration table in the README and docs/ that has a "default" column is read
row by row; each key must exist in the typed config (stack_config/) and its documented
default must equal the code's default. Defaults that are descriptions rather than values
are listed below, each with the reason, so nothing is skipped silently.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUndefined

from offline.engine import REPO_ROOT
from stack_config.model import StackConfig

REQUIRED = object()
NO_DEFAULT = object()  # "—": required, or optional with no value
# The documents with configuration tables (docs/confluent.md describes its keys in prose).
DOCS = ("README.md", "docs/databricks.md", "docs/serving.md", "docs/operations.md")
_CELL = re.compile(r"(?<!\\)\|")

# (document, key) -> why the documented default is a description, not a value to compare.
DESCRIBED: dict[tuple[str, str], str] = {
    ("README.md", "uniqueSuffix"): "derived: a hash of project and stack (components/naming.py)",
    ("README.md", "allowedLocations"): "a list of four regions, named in the model",
    ("README.md", "eventHubs.capture"): "a whole section whose `enabled` is false",
    ("README.md", "dataLake.lifecycleContainers"): "a tuple of container names",
    ("docs/databricks.md", "catalogName"): "derived: <namePrefix>_<environment>",
    ("docs/serving.md", "failoverGroup.partnerLocation"): "derived: stack_config.sql.PAIRED_REGIONS[location]",
    **{
        ("docs/databricks.md", f"compute.{stage}"): "a section whose unset keys take the capacity model's proposal"
        for stage in ("bronze", "silver", "gold")
    },
}


def _doc_tables(path: Path) -> list[tuple[str | None, list[tuple[str, str]]]]:
    """(config section the table documents, [(key cell, default cell)]) for each table with a default column."""
    lines = path.read_text().splitlines()
    tables = []
    for i, line in enumerate(lines):
        cells = [c.strip().lower() for c in _CELL.split(line.strip().strip("|"))]
        if not line.startswith("|") or "default" not in cells or not cells[0].startswith("key"):
            continue
        default_col = cells.index("default")
        section = None
        for back in lines[max(0, i - 4) : i]:
            if m := re.search(r"`rta-platform:([a-zA-Z]+)`", back):
                section = m.group(1)
        rows = []
        for row in lines[i + 2 :]:
            if not row.startswith("|"):
                break
            parts = [c.strip() for c in _CELL.split(row.strip().strip("|"))]
            rows.append((parts[0], parts[default_col]))
        tables.append((section, rows))
    return tables


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _field(model: type[BaseModel], path: str) -> Any:
    """The pydantic field a dotted camelCase key names, or raise KeyError."""
    parts = path.split(".")
    for depth, part in enumerate(parts):
        by_alias = {(f.alias or to_camel(n)): f for n, f in model.model_fields.items()}
        if part not in by_alias:
            raise KeyError(path)
        field = by_alias[part]
        if depth == len(parts) - 1:
            return field
        sub = _model_of(field.annotation)
        if sub is None:
            raise KeyError(path)
        model = sub


def _code_default(field: Any) -> Any:
    if field.is_required():
        return REQUIRED
    value = field.get_default(call_default_factory=True)
    if value is PydanticUndefined:
        return REQUIRED
    if hasattr(value, "value") and not isinstance(value, BaseModel):
        return value.value
    if isinstance(value, tuple):
        return [getattr(v, "value", v) for v in value]
    return value


def _doc_default(text: str) -> Any:
    plain = text.replace("`", "").strip()
    lowered = plain.lower()
    if lowered in ("required", "— (required)") or lowered.startswith("— (required"):
        return REQUIRED
    if lowered in ("—", "-", ""):
        return NO_DEFAULT
    if lowered == "none":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if re.fullmatch(r"-?\d+", plain):
        return int(plain)
    if re.fullmatch(r"-?\d+\.\d+", plain):
        return float(plain)
    if plain.startswith("[") and plain.endswith("]"):
        return [_doc_default(p) for p in plain[1:-1].split(",") if p.strip()]
    if plain == "{}":
        return {}
    return plain


def _rows() -> list[tuple[str, str, str, str]]:
    """(document, section, key path, documented default) for every documented default."""
    found = []
    for doc in DOCS:
        for section, rows in _doc_tables(REPO_ROOT / doc):
            if doc == "docs/databricks.md":
                section = "databricks"
            for key_cell, default_cell in rows:
                keys = re.findall(r"`([a-zA-Z][a-zA-Z0-9.\[\]]*)`", key_cell)
                if not keys or ":" in key_cell.split("`")[1] or "*" in key_cell or "[]" in key_cell:
                    continue  # azure-native:location, wildcard rows and list items are documented elsewhere
                defaults = [d.strip() for d in default_cell.split(" / ")]
                prefix = keys[0].rsplit(".", 1)[0] + "." if "." in keys[0] else ""
                for i, key in enumerate(keys):
                    full = key if i == 0 or "." in key else prefix + key
                    default = defaults[i] if len(defaults) == len(keys) else default_cell
                    found.append((doc, section or "", full, default))
    return found


ROWS = _rows()


def test_the_docs_tables_are_found() -> None:
    by_doc = {doc: sum(1 for r in ROWS if r[0] == doc) for doc in DOCS}
    assert all(n >= 5 for n in by_doc.values()), by_doc


@pytest.mark.parametrize(("doc", "section", "key", "documented"), ROWS, ids=[f"{r[0]}:{r[2]}" for r in ROWS])
def test_documented_default_is_the_code_default(doc: str, section: str, key: str, documented: str) -> None:
    path = f"{section}.{key}" if section else key
    try:
        field = _field(StackConfig, path)
    except KeyError:
        pytest.fail(f"{doc} documents {path!r}, which the config model does not have")
    if (doc, key) in DESCRIBED:
        return
    expected, actual = _doc_default(documented), _code_default(field)
    if isinstance(actual, BaseModel) or (isinstance(expected, str) and " " in expected and expected != actual):
        pytest.fail(f"{doc} {path}: default {documented!r} is a description; list it in DESCRIBED with why")
    if expected is NO_DEFAULT:
        assert actual is REQUIRED or actual is None, (
            f"{doc} documents {path} without a default; the code's is {actual!r}"
        )
        return
    if isinstance(actual, float) and isinstance(expected, int):
        expected = float(expected)
    assert expected == actual, f"{doc} documents {path} default {documented!r}; the code's default is {actual!r}"


def test_cited_controls_exist_in_the_policy_pack() -> None:
    """A doc may only cite a control id (ST-01, SQ-09, ...) that some policy of the pack implements."""
    readme = (REPO_ROOT / "README.md").read_text()
    implemented = set(re.findall(r"\| `[a-z0-9-]+`(?: \(stack\))? \| ([A-Z]{2}-\d{2}) \|", readme))
    assert len(implemented) > 40, "the README policy table is where the pack's controls are listed"
    # policies/README.md is left out on purpose: its coverage table lists catalogue controls without a policy.
    for doc in (*DOCS, "docs/delivery.md"):
        text = (REPO_ROOT / doc).read_text()
        for lo, hi in re.findall(r"\b([A-Z]{2}-\d{2})\s*(?:…|\.\.\.|\u2013)\s*([A-Z]{2}-\d{2})\b", text):
            pytest.fail(f"{doc} cites the range {lo}…{hi}; name the controls (ranges hide gaps)")
        for control in set(re.findall(r"\b(?:ST|KV|EH|SQ|NW|MO|ID|GV|PD|CC|DB|FN)-\d{2}\b", text)):
            assert control in implemented, f"{doc} cites {control}, which no policy implements"


def test_the_first_deploy_runbook_lists_every_check() -> None:
    """docs/first-deploy.md names each apply-time rule and each access flow the preview runs, and no other."""
    from offline.access_paths import FLOWS
    from offline.apply_rules import RULES

    text = (REPO_ROOT / "docs" / "first-deploy.md").read_text()
    assert set(re.findall(r"^\| (AT-\d{2}) \|", text, re.M)) == {r.id for r in RULES}
    assert set(re.findall(r"^\| `([a-z-]+->[a-z->]+)` \|", text, re.M)) == {f.id for f in FLOWS}
