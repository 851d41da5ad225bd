"""Delta maintenance SQL (Databricks-only statements), checked as text."""

from __future__ import annotations

import pytest

from streaming_jobs.maintenance import maintenance_sql

SCHEMAS = {"bronze": "bronze", "silver": "silver", "gold": "gold"}


def _sql(**kw: int) -> list[str]:
    args = {"hot_days": 90, "cold_days": 730, "vacuum_hours": 240, "stream_retention_hours": 168, **kw}
    return maintenance_sql("rta", SCHEMAS, **args)


def test_bronze_moves_to_cold_before_it_is_deleted_and_cold_expires() -> None:
    sql = _sql()
    merge = next(i for i, s in enumerate(sql) if s.startswith("MERGE INTO `rta`.`bronze`.`trades_raw_cold`"))
    delete = sql.index(
        "DELETE FROM `rta`.`bronze`.`trades_raw` WHERE ingest_time < current_timestamp() - INTERVAL 90 DAYS"
    )
    assert merge < delete and "WHEN NOT MATCHED THEN INSERT *" in sql[merge]
    assert (
        "DELETE FROM `rta`.`bronze`.`trades_raw_cold` WHERE ingest_time < current_timestamp() - INTERVAL 730 DAYS"
        in sql
    )


def test_gold_is_clustered_on_its_serving_keys_and_everything_vacuumed_past_the_lag() -> None:
    sql = _sql()
    assert "ALTER TABLE `rta`.`gold`.`symbol_window_metrics` CLUSTER BY (window_start, symbol)" in sql
    assert "OPTIMIZE `rta`.`gold`.`symbol_window_metrics`" in sql
    vacuums = [s for s in sql if s.startswith("VACUUM")]
    assert vacuums and all(s.endswith("RETAIN 240 HOURS") for s in vacuums)
    props = next(s for s in sql if s.startswith("ALTER TABLE `rta`.`silver`.`trades` SET TBLPROPERTIES"))
    assert "'delta.enableDeletionVectors' = 'true'" in props and "interval 240 hours" in props


@pytest.mark.parametrize(
    ("kw", "expected"), [({"vacuum_hours": 168}, "must exceed 168"), ({"cold_days": 30}, "cold_days")]
)
def test_unsafe_settings_are_refused(kw: dict[str, int], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        _sql(**kw)
