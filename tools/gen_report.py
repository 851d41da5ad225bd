"""Generate the Power BI project (PBIP) in report/ from the gold model, so the two can never drift.

    python tools/gen_report.py           # rewrite report/
    python tools/gen_report.py --check   # exit 1 if report/ differs from what the gold model gives

The semantic model (TMDL) has one DirectQuery table per gold view of
`streaming_jobs/serving/schema.py`, the single description of gold; the report (PBIR)
has the trading page (seed 003's five visuals) and a pipeline-health page, each with
automatic page refresh. Microsoft's `fabric-cicd` publishes the folder
(tools/publish_report.py, run by the deploy workflow).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streaming_jobs.serving.schema import ALL_TABLES, GOLD_SCHEMA, GOLD_VIEWS, Column  # noqa: E402

REPORT_DIR = ROOT / "report"
NAME = "rta-trading"
MODEL = f"{NAME}.SemanticModel"
REPORT = f"{NAME}.Report"
# Tables the model exposes: every gold view, plus the serving ledger for the pipeline-health page.
MODEL_TABLES = (*GOLD_VIEWS, "serving_batches")
# DirectQuery refreshes a page's visuals on this interval (seconds): near-real-time without import refreshes.
PAGE_REFRESH_SECONDS = 5
_NS = uuid.UUID("4c8f0e52-1b7a-4e0c-9a3d-6f2b8d1e7c55")

# Logical gold types (schema.py) -> TMDL data types.
_TMDL_TYPES = {"TIMESTAMP": "dateTime", "BIGINT": "int64", "INT": "int64", "FLOAT": "double", "BIT": "boolean"}


def tmdl_type(logical: str) -> str:
    if logical.startswith("DECIMAL"):
        return "decimal"
    if logical.startswith("VARCHAR"):
        return "string"
    return _TMDL_TYPES[logical]


def view_column_types() -> dict[str, dict[str, str]]:
    """Each model table's columns with a logical type, looked up in the tables the view is based on."""
    known: dict[str, Column] = {c.name: c for t in ALL_TABLES.values() for c in t.columns}
    derived = {
        "trading_day": "TIMESTAMP",
        "quantity": "BIGINT",
        "cumulative_quantity": "BIGINT",
        "total_quantity": "BIGINT",
        "share_pct": "FLOAT",
    }
    out: dict[str, dict[str, str]] = {}
    for name in MODEL_TABLES:
        columns = GOLD_VIEWS[name].columns if name in GOLD_VIEWS else ALL_TABLES[name].column_names
        out[name] = {c: derived.get(c) or known[c].type for c in columns}
    return out


def tag(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def table_tmdl(name: str, columns: dict[str, str]) -> str:
    lines = [f"table {name}", f"\tlineageTag: {tag('table', name)}", ""]
    for column, logical in columns.items():
        lines += [
            f"\tcolumn {column}",
            f"\t\tdataType: {tmdl_type(logical)}",
            f"\t\tlineageTag: {tag('column', name, column)}",
            "\t\tsummarizeBy: " + ("sum" if tmdl_type(logical) in ("int64", "decimal", "double") else "none"),
            f"\t\tsourceColumn: {column}",
            "",
        ]
    lines += [
        f"\tpartition {name} = m",
        "\t\tmode: directQuery",
        "\t\tsource =",
        "\t\t\t\tlet",
        # MultiSubnetFailover=true makes the SQL connector open the session with ApplicationIntent=ReadOnly,
        # so DirectQuery reads the readable secondary (docs/serving.md).
        "\t\t\t\t    Source = Sql.Database(Server, Database, [MultiSubnetFailover = true]),",
        f'\t\t\t\t    View = Source{{[Schema = "{GOLD_SCHEMA}", Item = "{name}"]}}[Data]',
        "\t\t\t\tin",
        "\t\t\t\t    View",
        "",
    ]
    return "\n".join(lines)


def model_files() -> dict[str, str]:
    files = {
        f"{MODEL}/definition.pbism": json.dumps({"version": "4.0", "settings": {}}, indent=2) + "\n",
        f"{MODEL}/.platform": platform("SemanticModel", NAME),
        f"{MODEL}/definition/database.tmdl": "database\n\tcompatibilityLevel: 1604\n",
        f"{MODEL}/definition/model.tmdl": "\n".join(
            [
                "model Model",
                "\tculture: en-US",
                "\tdefaultPowerBIDataSourceVersion: powerBI_V3",
                "\tsourceQueryCulture: en-US",
                "\tdataAccessOptions",
                "\t\tlegacyRedirects",
                "\t\treturnErrorValuesAsNull",
                "",
                *(f"ref table {t}" for t in MODEL_TABLES),
                "",
            ]
        ),
        f"{MODEL}/definition/expressions.tmdl": "\n".join(
            [
                # Parameters: the deploy replaces the placeholders per environment (report/parameter.yml).
                'expression Server = "rta-sql-server.database.windows.net" meta [IsParameterQuery = true, '
                'Type = "Text", IsParameterQueryRequired = true]',
                f"\tlineageTag: {tag('expression', 'Server')}",
                "",
                'expression Database = "gold" meta [IsParameterQuery = true, Type = "Text", '
                "IsParameterQueryRequired = true]",
                f"\tlineageTag: {tag('expression', 'Database')}",
                "",
            ]
        ),
    }
    for name, columns in view_column_types().items():
        files[f"{MODEL}/definition/tables/{name}.tmdl"] = table_tmdl(name, columns)
    return files


def platform(kind: str, display_name: str) -> str:
    """The `.platform` file Fabric's Git format (and fabric-cicd) reads to know an item's type and name."""
    document = {
        "$schema": "https://developer.microsoft.com/json-schemas/fabric/gitIntegration/platformProperties/2.0.0/schema.json",
        "metadata": {"type": kind, "displayName": display_name},
        "config": {"version": "2.0", "logicalId": tag("item", kind, display_name)},
    }
    return json.dumps(document, indent=2) + "\n"


@dataclass(frozen=True)
class Visual:
    name: str
    title: str
    visual_type: str
    table: str
    category: str  # the axis / legend field
    values: tuple[str, ...]  # summed measures
    series: str | None = None


@dataclass(frozen=True)
class Page:
    name: str
    display_name: str
    visuals: tuple[Visual, ...]


PAGES = (
    Page(
        "trading",
        "Trading",
        (
            Visual(
                "transactionsByType",
                "Transactions by type",
                "pieChart",
                "v_transaction_count_by_type",
                "side",
                ("trade_count",),
            ),
            Visual(
                "averagePriceTrend",
                "Average price trend",
                "lineChart",
                "v_price_trend",
                "window_start",
                ("avg_price",),
                series="symbol",
            ),
            Visual(
                "cumulativeQuantity",
                "Cumulative quantity",
                "areaChart",
                "v_cumulative_quantity",
                "window_start",
                ("cumulative_quantity",),
            ),
            Visual(
                "totalQuantityBySymbol",
                "Total quantity by symbol",
                "clusteredBarChart",
                "v_total_quantity_by_symbol",
                "symbol",
                ("total_quantity",),
            ),
            Visual("shareOfVolume", "Share of volume", "donutChart", "v_volume_share", "symbol", ("share_pct",)),
        ),
    ),
    Page(
        "pipelineHealth",
        "Pipeline health",
        (
            Visual(
                "rowsServedPerBatch",
                "Rows served per gold batch",
                "lineChart",
                "serving_batches",
                "committed_at",
                ("row_count",),
            ),
            Visual(
                "batchesByQuery",
                "Gold batches applied",
                "clusteredColumnChart",
                "serving_batches",
                "query_id",
                ("batch_id",),
            ),
            Visual(
                "activeAlerts",
                "Active alerts",
                "tableEx",
                "v_active_alerts",
                "rule_name",
                ("metric_value", "threshold"),
                series="symbol",
            ),
        ),
    ),
)


def field(table: str, column: str) -> dict[str, object]:
    return {"Column": {"Expression": {"SourceRef": {"Entity": table}}, "Property": column}}


def visual_json(visual: Visual, index: int) -> str:
    projections: dict[str, object] = {
        "Category": {
            "projections": [
                {"field": field(visual.table, visual.category), "queryRef": f"{visual.table}.{visual.category}"}
            ]
        },
        "Y": {
            "projections": [
                {
                    "field": {"Aggregation": {"Expression": field(visual.table, v), "Function": 0}},
                    "queryRef": f"Sum({visual.table}.{v})",
                }
                for v in visual.values
            ]
        },
    }
    if visual.series:
        projections["Series"] = {
            "projections": [
                {"field": field(visual.table, visual.series), "queryRef": f"{visual.table}.{visual.series}"}
            ]
        }
    document = {
        "$schema": "https://developer.microsoft.com/json-schemas/fabric/item/report/definition/visualContainer/2.1.0/schema.json",
        "name": visual.name,
        "position": {
            "x": 20 + (index % 3) * 420,
            "y": 20 + (index // 3) * 340,
            "z": index,
            "width": 400,
            "height": 320,
        },
        "visual": {
            "visualType": visual.visual_type,
            "query": {"queryState": projections},
            "visualContainerObjects": {
                "title": [{"properties": {"text": {"expr": {"Literal": {"Value": f"'{visual.title}'"}}}}}]
            },
        },
    }
    return json.dumps(document, indent=2) + "\n"


def page_json(page: Page) -> str:
    document = {
        "$schema": "https://developer.microsoft.com/json-schemas/fabric/item/report/definition/page/2.0.0/schema.json",
        "name": page.name,
        "displayName": page.display_name,
        "displayOption": "FitToPage",
        "height": 720,
        "width": 1280,
        "objects": {
            # Automatic page refresh, fixed interval (DirectQuery only).
            "pageRefresh": [
                {
                    "properties": {
                        "show": {"expr": {"Literal": {"Value": "true"}}},
                        "refreshType": {"expr": {"Literal": {"Value": "'fixed'"}}},
                        "duration": {"expr": {"Literal": {"Value": f"{PAGE_REFRESH_SECONDS}D"}}},
                        "durationUnit": {"expr": {"Literal": {"Value": "'seconds'"}}},
                    }
                }
            ]
        },
    }
    return json.dumps(document, indent=2) + "\n"


def report_files() -> dict[str, str]:
    files = {
        f"{REPORT}/definition.pbir": json.dumps(
            {"version": "4.0", "datasetReference": {"byPath": {"path": f"../{MODEL}"}}}, indent=2
        )
        + "\n",
        f"{REPORT}/.platform": platform("Report", NAME),
        f"{REPORT}/definition/version.json": json.dumps(
            {
                "$schema": "https://developer.microsoft.com/json-schemas/fabric/item/report/definition/versionMetadata/1.0.0/schema.json",
                "version": "2.0.0",
            },
            indent=2,
        )
        + "\n",
        f"{REPORT}/definition/report.json": json.dumps(
            {
                "$schema": "https://developer.microsoft.com/json-schemas/fabric/item/report/definition/report/2.0.0/schema.json",
                "themeCollection": {"baseTheme": {"name": "CY24SU10", "type": "SharedResources"}},
            },
            indent=2,
        )
        + "\n",
        f"{REPORT}/definition/pages/pages.json": json.dumps(
            {
                "$schema": "https://developer.microsoft.com/json-schemas/fabric/item/report/definition/pagesMetadata/1.0.0/schema.json",
                "pageOrder": [p.name for p in PAGES],
                "activePageName": PAGES[0].name,
            },
            indent=2,
        )
        + "\n",
    }
    for page in PAGES:
        files[f"{REPORT}/definition/pages/{page.name}/page.json"] = page_json(page)
        for i, visual in enumerate(page.visuals):
            files[f"{REPORT}/definition/pages/{page.name}/visuals/{visual.name}/visual.json"] = visual_json(visual, i)
    return files


def project_files() -> dict[str, str]:
    files = {
        f"{NAME}.pbip": json.dumps(
            {"version": "1.0", "artifacts": [{"report": {"path": REPORT}}], "settings": {"enableAutoRecovery": True}},
            indent=2,
        )
        + "\n",
        ".gitignore": "**/.pbi/localSettings.json\n**/.pbi/cache.abf\n",
    }
    return {**files, **model_files(), **report_files()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if report/ is out of date")
    args = parser.parse_args(argv)
    wanted = project_files()
    present = {
        p.relative_to(REPORT_DIR).as_posix(): p.read_text(encoding="utf-8")
        for p in REPORT_DIR.rglob("*")
        if p.is_file() and p.name != "parameter.yml"
    }
    if args.check:
        stale = sorted(k for k in wanted.keys() | present.keys() if wanted.get(k) != present.get(k))
        if stale:
            print("report/ is out of date (python tools/gen_report.py): " + ", ".join(stale[:10]), file=sys.stderr)
            return 1
        return 0
    for name in present.keys() - wanted.keys():
        (REPORT_DIR / name).unlink()
    for name, text in wanted.items():
        path = REPORT_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
