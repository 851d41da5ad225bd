"""The runtime smoke job's checks on local Spark, and the completeness of its API list."""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, Row, SparkSession

from streaming_jobs.config import ConfigError
from streaming_jobs.io.streams import materialised
from streaming_jobs.jobs.silver import silver_records
from streaming_jobs.jobs.smoke import (
    REQUIRED_APIS,
    Api,
    SmokeTestError,
    api_owners,
    missing_apis,
    parse_args,
    preflight,
    settings_problems,
    smoke_events,
    smoke_rules,
    version_problems,
)
from streaming_jobs.manifest import ALL_JOBS, SMOKE_JOB
from streaming_jobs.runtime import SPARK_SEMANTICS
from streaming_jobs.schemas import BRONZE_SCHEMA
from streaming_jobs.transforms.dedupe import deduplicated
from streaming_jobs.transforms.validate import ACCEPTED

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[2]

# Attribute names the deployed modules call that are not PySpark's, although a PySpark class has a member
# of that name: each is a str, dict, list or project method.
NOT_PYSPARK = {
    "join": "str.join (DataFrame.join is listed)",
    "get": "dict.get (RuntimeConfig.get is listed for the smoke job's own reads)",
    "replace": "str.replace",
    "startswith": "str.startswith",
    "count": "str.count / list count (F.count is listed)",
    "name": "dataclass and Table attributes (StreamingQuery.name is listed)",
    "text": "Interval.text",
    "apply": "Trigger.apply",
    "read": "StreamSource.read (SparkSession.read is listed)",
    "start": "StreamSink.start (DataStreamWriter.start is listed)",
    "table": "project dataclasses (DataStreamReader.table and SparkSession.table are listed)",
    "exists": "Path.exists",
    "version": "schema history rows",
    "columns": "Table.columns (DataFrame.columns is listed)",
    "schema": "DeltaGoldSink.schema (DataFrame.schema is listed)",
    "filter": "DataFrame.filter is listed",
    "stop": "StreamingQuery.stop is listed",
    "catalog": "the --catalog parameter of the job configs",
    "sort": "list.sort",
    "getOrCreate": "SparkSession.builder.getOrCreate (Builder.getOrCreate is listed)",
    "rdd": "the JVM QueryExecution's analyzed().rdd() through py4j (io/streams.materialised; the pass runs it)",
    "unpersist": "the JVM RDD's unpersist through py4j (io/streams.materialised; the pass runs it)",
    "json": "StreamingQueryProgress.json (jobs/common.progress_documents; the pass publishes gold's metrics)",
}


def test_preflight_passes_on_the_local_line(spark: SparkSession) -> None:
    """Everything the smoke job checks before touching a table holds on the pinned PySpark and local session."""
    assert preflight(spark) == []


def test_a_missing_api_or_keyword_is_named(spark: SparkSession) -> None:
    owners = api_owners(spark)
    problems = missing_apis(
        owners,
        [
            Api("functions", "no_such_function"),
            Api("DataFrame", "localCheckpoint", ("eager", "spill")),
            Api("Nowhere", "x"),
            Api("DataFrame", "groupingSets"),
        ],
    )
    assert problems == [
        "functions.no_such_function(): functions has no no_such_function",
        "DataFrame.localCheckpoint(eager=, spill=): DataFrame.localCheckpoint takes no spill",
        "Nowhere.x(): no Nowhere to look it up on",
    ]


def test_a_setting_not_in_force_is_named() -> None:
    in_force = {**SPARK_SEMANTICS, "spark.sql.ansi.enabled": "false"}
    del in_force["spark.sql.legacy.viewSchemaCompensation"]
    assert settings_problems(in_force.get) == [
        "spark.sql.ansi.enabled is 'false', the jobs are tested with 'true'",
        "spark.sql.legacy.viewSchemaCompensation is None, the jobs are tested with 'true'",
    ]
    assert settings_problems(SPARK_SEMANTICS.get) == []


def test_another_spark_line_is_named() -> None:
    assert version_problems("3.5.2", "3.5.2") == [
        "the cluster runs Apache Spark 3.5.2; the jobs are tested on Spark 4.0",
        "the cluster's PySpark is 3.5.2; the jobs are tested on PySpark 4.0",
    ]
    assert version_problems("4.0.0", "4.0.0") == []


def test_a_failure_lists_every_problem() -> None:
    message = str(SmokeTestError(["a is missing", "b is off"]))
    assert "2 problems" in message and "- a is missing" in message and "- b is off" in message


def test_parameters_are_the_manifests_and_errors_name_them() -> None:
    cfg = parse_args(["--catalog", "c", "--scratch-schema", "smoke", "--checkpoint-root", "abfss://x/y"])
    assert (cfg.catalog, cfg.scratch_schema, cfg.timeout_seconds) == ("c", "smoke", 600)
    with pytest.raises(ConfigError, match="--scratch-schema"):
        parse_args(["--catalog", "c", "--checkpoint-root", "r"])
    with pytest.raises(ConfigError, match="--timeout-seconds"):
        parse_args(["--catalog", "c", "--scratch-schema", "s", "--checkpoint-root", "r", "--timeout-seconds", "0"])
    assert set(SMOKE_JOB.required_params) == {"--catalog", "--scratch-schema", "--checkpoint-root"}


def test_the_smoke_events_give_the_counts_the_pass_expects(spark: SparkSession, tmp_path: Path) -> None:
    """The pass's expectations hold for the real silver code on local Spark, as a stream (the Delta edges aside)."""
    now = datetime.now(UTC)
    events = smoke_events(now)
    rows = [(p, None, "smoke", 0, i, now, None, now) for i, p in enumerate(events.payloads)]
    spark.createDataFrame(rows, BRONZE_SCHEMA).write.parquet(str(tmp_path / "bronze"))
    bronze = spark.readStream.schema(BRONZE_SCHEMA).parquet(str(tmp_path / "bronze"))
    got: list[Row] = []

    def collect(batch: DataFrame, _: int) -> None:
        with materialised(batch) as rows:  # read more than once: computed (and the state updated) once
            got.extend(deduplicated(rows).select(ACCEPTED, "quantity").collect())

    query = (
        silver_records(bronze, smoke_rules())
        .writeStream.foreachBatch(collect)
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    assert query.awaitTermination(120)
    trades = [r.quantity for r in got if r[ACCEPTED]]
    assert (len(trades), sum(trades)) == (events.trades, events.volume)
    assert len(got) - len(trades) == events.quarantined


# ----------------------------------------------------------------------------- the API list is complete


def _module_path(module: str) -> Path | None:
    base = ROOT / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _deployed_modules() -> list[Path]:
    """The job modules the cluster runs and every streaming_jobs module they import (local-only code aside)."""
    todo = [f"streaming_jobs.jobs.{m}" for m in ("bronze", "silver", "gold", "smoke", "maintenance")]
    seen: dict[str, Path] = {}
    while todo:
        module = todo.pop()
        path = _module_path(module)
        if module in seen or path is None:
            continue
        seen[module] = path
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("streaming_jobs"):
                todo.append(node.module)
                todo += [f"{node.module}.{a.name}" for a in node.names]
    return sorted(seen.values())


def test_the_deployed_modules_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _deployed_modules()}
    assert {"streaming_jobs/transforms/aggregate.py", "streaming_jobs/io/streams.py", "streaming_jobs/io/delta.py"} <= (
        names
    )
    assert "streaming_jobs/local_pipeline.py" not in names
    assert {s.entry_file for s in ALL_JOBS.values()} <= {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "streaming_jobs" / "entrypoints").glob("*.py")
    }


def test_every_pyspark_api_the_deployed_jobs_call_is_in_the_smoke_list(spark: SparkSession) -> None:
    """Read the deployed modules' calls: each `F.<name>` and each method a PySpark class has must be in
    REQUIRED_APIS (with the keywords passed), or be a named non-PySpark call. A new API in the jobs fails
    here until the smoke job checks it on the cluster."""
    owners = api_owners(spark)
    classes = {k: v for k, v in owners.items() if inspect.isclass(v)}
    listed = {(a.owner, a.name): a for a in REQUIRED_APIS}
    listed_names = {a.name for a in REQUIRED_APIS}
    unlisted: set[str] = set()
    for path in _deployed_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Attribute):
                continue
            if isinstance(node.value, ast.Name) and node.value.id == "F":
                if ("functions", node.attr) not in listed:
                    unlisted.add(f"F.{node.attr} ({path.name})")
                continue
            spark_owners = [o for o, c in classes.items() if hasattr(c, node.attr) and not node.attr.startswith("_")]
            if not spark_owners or node.attr in listed_names or node.attr in NOT_PYSPARK:
                continue
            unlisted.add(f"{node.attr} of {spark_owners} ({path.name})")
    assert not unlisted, f"add to smoke.REQUIRED_APIS (or NOT_PYSPARK with the reason): {sorted(unlisted)}"


def test_keywords_the_jobs_pass_are_in_the_smoke_list() -> None:
    """Keyword arguments to the listed methods that take them: localCheckpoint, trigger."""
    passed: dict[str, set[str]] = {}
    for path in _deployed_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("localCheckpoint", "trigger")
            ):
                passed.setdefault(node.func.attr, set()).update(k.arg for k in node.keywords if k.arg)
    params = {a.name: set(a.params) for a in REQUIRED_APIS if a.params}
    assert passed["localCheckpoint"] == {"eager", "storageLevel"}
    for name, keywords in passed.items():
        assert keywords <= params[name], name


def test_the_pass_checks_gold_s_published_metrics() -> None:
    """On the cluster the pass publishes gold's metrics from its query's progress: every trade counted, a
    latency p50/p99 at the recorded commit; a progress without the observation is named."""
    import json
    from dataclasses import dataclass, field

    from streaming_jobs.jobs.smoke import published_metrics_problems
    from streaming_jobs.ops_metrics import EVENT_TIME_OBSERVATION

    @dataclass
    class Progress:
        json: str

    @dataclass
    class Query:
        recentProgress: list[Progress]  # noqa: N815 (Spark's name)

    @dataclass
    class Writer:
        committed_at: dict[int, float] = field(default_factory=dict)

    def progress(observed: dict[str, object]) -> Progress:
        document = {
            "id": "q",
            "runId": "r",
            "name": "gold_metrics",
            "timestamp": "2026-12-06T04:35:52.000Z",
            "batchId": 0,
            "numInputRows": 7,
            "durationMs": {"addBatch": 10, "triggerExecution": 20},
            "sources": [],
            "observedMetrics": observed,
        }
        return Progress(json.dumps(document))

    observed = {EVENT_TIME_OBSERVATION: {"rows": 7, "event_ms_quantiles": [1796531750000, 1796531749000]}}
    assert published_metrics_problems(Query([progress(observed)]), Writer({0: 1796531752.5}), 7) == []
    problems = published_metrics_problems(Query([progress({})]), Writer({0: 1796531752.5}), 8)
    assert len(problems) == 2 and "7 input rows, expected 8" in problems[0] and "latency" in problems[1]
