"""The Power BI project (report/): generated from the gold model, fields that exist, DirectQuery read-only,
auto page refresh, and a parameter file fabric-cicd itself accepts."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from streaming_jobs.serving.schema import columns_of

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "report"
sys.path.insert(0, str(ROOT / "tools"))

import gen_report  # noqa: E402
import publish_report  # noqa: E402

SEED_VISUALS = {
    "transactionsByType",
    "averagePriceTrend",
    "cumulativeQuantity",
    "totalQuantityBySymbol",
    "shareOfVolume",
}


def visual_files() -> list[Path]:
    return sorted(REPORT.glob("rta-trading.Report/definition/pages/*/visuals/*/visual.json"))


def fields(node: object) -> list[tuple[str, str]]:
    """Every (entity, property) a visual's query names, wherever it sits in the JSON."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        column = node.get("Column")
        if isinstance(column, dict) and "Property" in column:
            found.append((column["Expression"]["SourceRef"]["Entity"], column["Property"]))
        for value in node.values():
            found += fields(value)
    elif isinstance(node, list):
        for value in node:
            found += fields(value)
    return found


def test_the_committed_project_is_what_the_gold_model_generates() -> None:
    assert gen_report.main(["--check"]) == 0


def test_every_visual_field_exists_in_the_gold_model() -> None:
    assert len(visual_files()) >= 8
    for path in visual_files():
        named = fields(json.loads(path.read_text()))
        assert named, path
        for entity, prop in named:
            assert prop in columns_of(entity), f"{path.relative_to(ROOT)}: {entity}.{prop} is not in gold"


def test_the_model_tables_are_the_gold_views_and_read_them_directquery_read_only() -> None:
    tables = sorted(REPORT.glob("rta-trading.SemanticModel/definition/tables/*.tmdl"))
    assert tables
    for path in tables:
        text = path.read_text()
        name = path.stem
        columns = re.findall(r"^\tcolumn (\w+)$", text, re.M)
        assert tuple(columns) == columns_of(name), name
        assert "mode: directQuery" in text
        assert "Sql.Database(Server, Database, [MultiSubnetFailover = true])" in text  # ApplicationIntent=ReadOnly
        assert f'[Schema = "gold", Item = "{name}"]' in text


def test_pages_refresh_automatically_and_hold_the_seed_visuals() -> None:
    pages = json.loads((REPORT / "rta-trading.Report/definition/pages/pages.json").read_text())["pageOrder"]
    assert pages == ["trading", "pipelineHealth"]
    for page in pages:
        document = json.loads((REPORT / f"rta-trading.Report/definition/pages/{page}/page.json").read_text())
        refresh = document["objects"]["pageRefresh"][0]["properties"]
        assert refresh["show"]["expr"]["Literal"]["Value"] == "true"
    trading = {p.parent.name for p in visual_files() if "/trading/" in p.as_posix()}
    assert trading == SEED_VISUALS


def test_the_project_references_resolve() -> None:
    pbip = json.loads((REPORT / "rta-trading.pbip").read_text())
    assert (REPORT / pbip["artifacts"][0]["report"]["path"]).is_dir()
    pbir = json.loads((REPORT / "rta-trading.Report/definition.pbir").read_text())
    assert (REPORT / "rta-trading.Report" / pbir["datasetReference"]["byPath"]["path"]).is_dir()
    for item, kind in (("rta-trading.Report", "Report"), ("rta-trading.SemanticModel", "SemanticModel")):
        platform = json.loads((REPORT / item / ".platform").read_text())
        assert platform["metadata"]["type"] == kind


def test_fabric_cicd_accepts_the_parameter_file_and_every_find_value_occurs(tmp_path: Path) -> None:
    from fabric_cicd._parameter._parameter import Parameter  # the library's own validation (no API calls)

    repository = publish_report.prepare(tmp_path / "report", "prod", "sql-rta-prod.database.windows.net", "gold")
    parameter = Parameter(repository, publish_report.ITEM_TYPES, "prod")
    assert parameter._validate_parameter_file() is True
    model_text = "".join(p.read_text() for p in repository.glob("rta-trading.SemanticModel/**/*.tmdl"))
    for entry in parameter.environment_parameter["find_replace"]:
        assert entry["find_value"] in model_text, entry["find_value"]  # else the replacement silently does nothing
