"""Bronze: the Kafka endpoint (Event Hubs or Confluent) -> the bronze Delta table, payload untouched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from streaming_jobs.config import ConfigError, KafkaAuthMode, parse_kafka_auth
from streaming_jobs.io.kafka import KafkaSettings, kafka_options, read_kafka
from streaming_jobs.io.streams import StreamSink, Trigger, checkpoint_for
from streaming_jobs.jobs.common import (
    JobArgumentParser,
    add_trigger_args,
    configure,
    metrics_publisher,
    run_until_terminated,
    trigger_from,
)
from streaming_jobs.manifest import JOBS

QUERY = JOBS["bronze"].queries[0]


def build_parser() -> JobArgumentParser:
    p = JobArgumentParser(prog="bronze_ingest", description=JOBS["bronze"].description)
    p.add_argument("--catalog", required=True)
    p.add_argument("--bronze-schema", required=True)
    p.add_argument("--checkpoint-root", required=True)
    p.add_argument("--kafka-bootstrap-servers", required=True)
    p.add_argument("--kafka-topic", required=True)
    p.add_argument("--kafka-auth", required=True, help=" | ".join(m.value for m in KafkaAuthMode))
    p.add_argument(
        "--kafka-group-id-prefix", required=True, help="consumer-group prefix the stack grants (groupIdPrefix)"
    )
    p.add_argument("--service-credential", help="Unity Catalog service credential (entra-service-credential)")
    p.add_argument("--secret-scope", help="Key Vault-backed secret scope (sasl-plain-secret-scope)")
    p.add_argument("--api-key-secret", help="secret holding the Confluent API key")
    p.add_argument("--api-secret-secret", help="secret holding the Confluent API secret")
    p.add_argument("--starting-offsets", default="earliest", help="first run only; then the checkpoint decides")
    p.add_argument("--max-offsets-per-trigger", type=int, help="cap on records per micro-batch")
    p.add_argument("--metrics-schema", help="schema of the pipeline_metrics table (the stack passes gold's)")
    add_trigger_args(p)
    return p


@dataclass(frozen=True)
class BronzeConfig:
    catalog: str
    bronze_schema: str
    checkpoint_root: str
    kafka: KafkaSettings
    trigger: Trigger
    metrics_schema: str | None = None


def parse_args(argv: Sequence[str]) -> BronzeConfig:
    a = build_parser().parse_args(argv)
    if a.max_offsets_per_trigger is not None and a.max_offsets_per_trigger <= 0:
        raise ConfigError("--max-offsets-per-trigger: must be positive")
    kafka = KafkaSettings(
        bootstrap_servers=a.kafka_bootstrap_servers,
        topic=a.kafka_topic,
        auth=parse_kafka_auth(a.kafka_auth),
        service_credential=a.service_credential,
        secret_scope=a.secret_scope,
        api_key_secret=a.api_key_secret,
        api_secret_secret=a.api_secret_secret,
        starting_offsets=a.starting_offsets,
        max_offsets_per_trigger=a.max_offsets_per_trigger,
        group_id_prefix=a.kafka_group_id_prefix,
    )
    kafka.check()
    return BronzeConfig(a.catalog, a.bronze_schema, a.checkpoint_root, kafka, trigger_from(a), a.metrics_schema)


def start_bronze(bronze: DataFrame, sink: StreamSink, checkpoint_root: str, trigger: Trigger) -> StreamingQuery:
    return sink.start(bronze, QUERY, checkpoint_for(checkpoint_root, QUERY), trigger)


def main(argv: Sequence[str]) -> None:
    cfg = parse_args(argv)
    from streaming_jobs.io.delta import BRONZE_TABLE, DeltaTableSink, table_name
    from streaming_jobs.io.secrets import DbutilsSecrets
    from streaming_jobs.transforms.bronze import bronze_from_kafka

    target = table_name(cfg.catalog, cfg.bronze_schema, BRONZE_TABLE)
    spark = configure(SparkSession.builder.getOrCreate())
    secrets = DbutilsSecrets(spark) if cfg.kafka.auth is KafkaAuthMode.SASL_PLAIN_SECRET_SCOPE else None
    source = bronze_from_kafka(read_kafka(spark, kafka_options(cfg.kafka, secrets)))
    publisher = metrics_publisher(spark, cfg.catalog, cfg.metrics_schema, "bronze")
    query = start_bronze(source, DeltaTableSink(target), cfg.checkpoint_root, cfg.trigger)
    run_until_terminated(spark, [query], publisher)
