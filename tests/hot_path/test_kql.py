"""The hot path's KQL and dashboard, checked by Microsoft's Kusto language service (under Node).

All cases go to the language service in one process (it takes seconds to load), then the
tests read their results.
"""

from __future__ import annotations

import json
import re
from functools import cache

import pytest

from hot_path import DASHBOARD, KqlCase, KqlCheck, KqlFile, check_all, dashboard_queries, database_scripts

SYMBOLS = ("AAPL", "MSFT", "NVDA")
SEED_VISUALS = (
    "Transactions by type",
    "Average price trend",
    "Cumulative quantity",
    "Total quantity by symbol",
    "Share of volume",
)
# A broken script must fail in its own file, naming what is wrong: (file, old text, new text, expected).
BREAKAGES = [
    ("30_views.kql", "volume = sum(quantity) by side", "volume = sum(qty) by side", "'qty'"),
    ("20_trades.kql", "price > 0", "price > 'zero'", "operator '>'"),
    ("40_alerts.kql", "where volume >= threshold", "where volume >= threshold_pct", "'threshold_pct'"),
    ("20_trades.kql", "where symbol in (TradingSymbols())", "where symbol in (Symbols())", "'Symbols'"),
]
BAD_QUERY = KqlFile("dashboard:bad", "SymbolMinute | where window_start > _startTime | project vwap")


def scripts_text() -> dict[str, str]:
    return {f.name: f.text for f in database_scripts(SYMBOLS)}


def update_policy() -> list[dict]:
    match = re.search(r"policy update @'(\[.*?\])'", scripts_text()["20_trades.kql"])
    assert match is not None
    return json.loads(match.group(1))


def _broken() -> list[KqlFile]:
    """Every breakage at once: they sit in different commands, so each error stays in its own file."""
    scripts = {f.name: f.text for f in database_scripts(SYMBOLS)}
    for name, old, new, _ in BREAKAGES:
        assert old in scripts[name], (name, old)
        scripts[name] = scripts[name].replace(old, new)
    return [KqlFile(name, text) for name, text in sorted(scripts.items())]


@cache
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


@cache
def results() -> list[KqlCheck]:
    extra = [BAD_QUERY, KqlFile("update-policy", update_policy()[0]["Query"])]
    return check_all(
        [KqlCase(database_scripts(SYMBOLS), [*dashboard_queries(dashboard()), *extra]), KqlCase(_broken())]
    )


def clean_errors() -> list[str]:
    return [e for e in results()[0].errors if not e.startswith(BAD_QUERY.name)]


def test_every_script_and_dashboard_query_passes_the_language_service() -> None:
    result = results()[0]
    assert clean_errors() == []
    assert {"TradesRaw", "Trades", "DedupedTrades", "SideMinute", "SymbolMinute"} <= set(result.tables)
    assert {"TradingSymbols", "ParseValidTrades", "PriceSpikes", "VolumeSurges", "HotPathFreshness"} <= set(
        result.functions
    )


@pytest.mark.parametrize("index", range(len(BREAKAGES)), ids=[b[3] for b in BREAKAGES])
def test_the_checker_finds_a_broken_script_with_its_file_and_line(index: int) -> None:
    script, _old, new, expected = BREAKAGES[index]
    broken = next(f.text for f in _broken() if f.name == script)
    line = broken[: broken.index(new)].count("\n") + 1
    errors = [e for e in results()[1].errors if expected in e]
    assert errors and all(e.startswith(f"{script}:{line}:") for e in errors), results()[1].errors


def test_a_dashboard_query_on_a_missing_column_fails() -> None:
    errors = results()[0].errors
    assert any(e.startswith("dashboard:bad:1:") and "'vwap'" in e for e in errors), errors


def test_the_update_policy_yields_exactly_the_trades_schema() -> None:
    policy = update_policy()
    assert [p["Source"] for p in policy] == ["TradesRaw"] and policy[0]["IsTransactional"] is True
    result = results()[0]
    assert not [e for e in result.errors if e.startswith("update-policy")]
    assert result.query_columns["update-policy"] == result.tables["Trades"]


def test_the_raw_mapping_and_the_parser_speak_the_event_schema() -> None:
    from streaming_jobs.schemas import EVENT_FIELDS

    scripts = scripts_text()
    match = re.search(r"mapping \"TradesRawJson\" '(.*)'$", scripts["10_raw.kql"], re.M)
    assert match is not None
    mapping = json.loads(match.group(1).replace("\\'", "'"))
    raw_columns = [c for c, _t in results()[0].tables["TradesRaw"]]
    assert sorted(m["column"] for m in mapping) == sorted(raw_columns)
    read = set(re.findall(r"payload\.(\w+)", scripts["20_trades.kql"]))
    assert read == set(EVENT_FIELDS) - {"schema_version"}


def test_the_symbols_script_follows_the_config() -> None:
    text = next(f.text for f in database_scripts(("AAPL", "TSLA")) if f.name == "05_symbols.kql")
    assert 'dynamic(["AAPL", "TSLA"])' in text


def test_the_dashboard_has_the_seed_visuals_and_every_tile_reads_columns_its_query_returns() -> None:
    board = dashboard()
    titles = [t["title"] for t in board["tiles"]]
    assert all(v in titles for v in SEED_VISUALS)
    queries = {q["id"] for q in board["queries"]}
    columns = results()[0].query_columns
    for tile in board["tiles"]:
        query_id = tile["queryRef"]["queryId"]
        assert query_id in queries, tile["title"]
        returned = {c for c, _t in columns[f"dashboard:{query_id}"]}
        options = tile["visualOptions"]
        wanted = {options[k]["value"] for k in ("xColumn",) if k in options}
        wanted |= {c for k in ("yColumns", "seriesColumns") if k in options for c in options[k]["value"]}
        assert wanted <= returned, (tile["title"], wanted - returned)
    assert board["autoRefresh"]["enabled"] is True
