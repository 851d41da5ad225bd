"""The entry files implement exactly the manifest's contract (no Spark session needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from streaming_jobs.config import ConfigError
from streaming_jobs.jobs import bronze, gold, silver
from streaming_jobs.jobs.common import JobArgumentParser
from streaming_jobs.manifest import JOBS

ROOT = Path(__file__).resolve().parents[2]
PARSERS = {"bronze": bronze.build_parser, "silver": silver.build_parser, "gold": gold.build_parser}


def _options(parser: JobArgumentParser) -> dict[str, bool]:
    found = {}
    for action in parser._actions:
        for opt in action.option_strings:
            if opt.startswith("--") and opt != "--help":
                found[opt] = action.required
    return found


@pytest.mark.parametrize("key", sorted(JOBS))
def test_parser_matches_manifest(key: str) -> None:
    spec = JOBS[key]
    opts = _options(PARSERS[key]())
    assert {o for o, req in opts.items() if req} == set(spec.required_params)
    assert {o for o, req in opts.items() if not req} == set(spec.optional_params)
    assert (ROOT / spec.entry_file).is_file()
    assert spec.queries and len(set(spec.queries)) == len(spec.queries)


def test_query_names_come_from_the_manifest() -> None:
    assert bronze.QUERY == "bronze_trades"
    assert silver.QUERY == "silver_cleanse"
    assert gold.QUERY == "gold_metrics"


@pytest.mark.parametrize("key", sorted(JOBS))
def test_entry_file_names_a_missing_parameter(key: str) -> None:
    """Run as Databricks does (`python <entry file> ...`, from another directory): a clear one-line error."""
    spec = JOBS[key]
    result = subprocess.run(
        [sys.executable, str(ROOT / spec.entry_file), *spec.task_parameters(["--catalog", "main"])],
        capture_output=True,
        text=True,
        cwd="/",
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    missing = [p for p in spec.required_params if p != "--catalog"]
    assert "the following arguments are required: " + ", ".join(missing) in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_values_are_named() -> None:
    base = ["--catalog", "c", "--silver-schema", "s", "--gold-schema", "g", "--checkpoint-root", "/cp"]
    with pytest.raises(ConfigError, match="--window: cannot read 'soon'"):
        gold.parse_args([*base, "--window", "soon", "--alert-rules", "[]"])
    with pytest.raises(ConfigError, match="--alert-rules: not valid JSON"):
        gold.parse_args([*base, "--window", "1 minute", "--alert-rules", "[{"])
    with pytest.raises(ConfigError, match="--sql-server and --sql-database go together"):
        gold.parse_args([*base, "--window", "1 minute", "--alert-rules", "[]", "--sql-server", "x"])
    cfg = gold.parse_args([*base, "--window", "1 minute", "--alert-rules", "[]", "--watermark", "30 seconds"])
    assert cfg.state_watermark.seconds == 90 and cfg.sql_migrate == "apply"


def test_bronze_checks_auth_parameters_before_spark() -> None:
    base = [
        "--catalog", "c", "--bronze-schema", "b", "--checkpoint-root", "/cp",
        "--kafka-bootstrap-servers", "ns.servicebus.windows.net:9093", "--kafka-topic", "trades",
        "--kafka-group-id-prefix", "bronze-ingest",
    ]  # fmt: skip
    with pytest.raises(ConfigError, match="unknown Kafka auth mode"):
        bronze.parse_args([*base, "--kafka-auth", "password"])
    with pytest.raises(ConfigError, match="needs --service-credential"):
        bronze.parse_args([*base, "--kafka-auth", "entra-service-credential"])
    with pytest.raises(ConfigError, match="needs --secret-scope, --api-key-secret, --api-secret-secret"):
        bronze.parse_args([*base, "--kafka-auth", "sasl-plain-secret-scope"])
    cfg = bronze.parse_args([*base, "--kafka-auth", "entra-service-credential", "--service-credential", "proc"])
    assert cfg.kafka.service_credential == "proc"
    assert cfg.kafka.group_id_prefix == "bronze-ingest"


def test_silver_rules_from_parameters() -> None:
    base = ["--catalog", "c", "--bronze-schema", "b", "--silver-schema", "s", "--checkpoint-root", "/cp"]
    cfg = silver.parse_args([*base, "--symbols", "aapl,msft", "--watermark", "30 seconds", "--sides", "buy,sell"])
    assert cfg.rules.symbols == ("AAPL", "MSFT") and cfg.rules.sides == ("BUY", "SELL")
    with pytest.raises(ConfigError, match="--max-price: 'free' is not a number"):
        silver.parse_args([*base, "--symbols", "A", "--watermark", "30 seconds", "--max-price", "free"])


def test_the_entry_file_refuses_an_unknown_or_missing_job_in_one_line() -> None:
    for argv in ([], ["bronze_ingest", "--catalog", "main"]):
        result = subprocess.run(
            [sys.executable, str(ROOT / JOBS["bronze"].entry_file), *argv],
            capture_output=True,
            text=True,
            cwd="/",
            timeout=120,
        )
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert "the first parameter names the job, one of bronze, delta_maintenance, gold" in result.stderr
