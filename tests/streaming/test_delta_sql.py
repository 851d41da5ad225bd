"""The Databricks-only SQL (Delta MERGE, gold tables and views), checked as text: no Delta locally."""

from __future__ import annotations

import re

import pytest

from streaming_jobs.config import ConfigError
from streaming_jobs.io.delta import create_table_sql, gold_view_sql, merge_sql, table_name
from streaming_jobs.serving.schema import ALERTS, GOLD_TABLES, GOLD_VIEWS, SYMBOL_WINDOW_METRICS


def test_table_names_are_quoted_and_checked() -> None:
    assert table_name("rta", "gold", "alerts") == "`rta`.`gold`.`alerts`"
    for bad in ("rta`; DROP TABLE x; --", "", "a b"):
        with pytest.raises(ConfigError):
            table_name(bad, "gold", "alerts")


def test_gold_tables_have_the_schema_columns() -> None:
    for table in GOLD_TABLES.values():
        sql = create_table_sql("`rta`.`gold`", table)
        assert sql.startswith(f"CREATE TABLE IF NOT EXISTS `rta`.`gold`.`{table.name}` (")
        assert re.findall(r"(\w+) [A-Z]+(?:\(\d+,\d+\))? NOT NULL", sql) == list(table.column_names)
        assert "USING DELTA" in sql


def test_merge_is_by_key_and_overwrites_the_figures() -> None:
    sql = merge_sql("`rta`.`gold`.`symbol_window_metrics`", "v", SYMBOL_WINDOW_METRICS)
    assert "ON t.window_start = s.window_start AND t.symbol = s.symbol" in sql
    assert "WHEN MATCHED THEN UPDATE SET" in sql and "WHEN NOT MATCHED THEN INSERT" in sql
    assert "t.volume = s.volume" in sql and "t.symbol = s.symbol," not in sql


def test_alert_merge_never_inserts_a_non_matching_row() -> None:
    sql = merge_sql("`rta`.`gold`.`alerts`", "v", ALERTS)
    assert "WHEN MATCHED AND s.active THEN UPDATE SET" in sql
    assert "WHEN NOT MATCHED AND s.active THEN INSERT" in sql
    first_update = sql.split("WHEN MATCHED AND s.active THEN UPDATE SET")[1].split("WHEN")[0]
    assert "detected_at" not in first_update and "first_batch_id" not in first_update
    assert "t.active = false" in sql


def test_every_serving_view_exists_on_databricks_too() -> None:
    statements = gold_view_sql("`rta`.`gold`")
    created = [re.search(r"CREATE OR REPLACE VIEW `rta`.`gold`\.(\w+) AS", s).group(1) for s in statements]  # type: ignore[union-attr]
    assert created == list(GOLD_VIEWS)
    for stmt, view in zip(statements, GOLD_VIEWS.values(), strict=True):
        select_list = stmt.split(" AS ", 1)[1]
        for column in view.columns:
            assert re.search(rf"\b{column}\b", select_list), (view.name, column)


def test_the_gold_job_creates_the_data_quality_view_over_silver() -> None:
    """With the silver schema, the gold views end with the data-quality view the dashboard's quality tiles and
    the quality alert read (streaming_jobs/ops_metrics.py), over silver's trades and quarantine tables."""
    from streaming_jobs.io.delta import QUARANTINE_TABLE, SILVER_TABLE
    from streaming_jobs.ops_metrics import QUALITY_VIEW

    plain, with_quality = gold_view_sql("`rta`.`gold`"), gold_view_sql("`rta`.`gold`", "`rta`.`silver`")
    assert with_quality[:-1] == plain
    quality = with_quality[-1]
    assert quality.startswith(f"CREATE OR REPLACE VIEW `rta`.`gold`.`{QUALITY_VIEW}` AS SELECT ")
    assert f"FROM `rta`.`silver`.`{SILVER_TABLE}` WHERE" in quality
    assert f"FROM `rta`.`silver`.`{QUARANTINE_TABLE}` WHERE" in quality
