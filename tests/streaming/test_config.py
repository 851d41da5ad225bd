"""Bad input fails fast with a message that names the problem (no Spark needed)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from streaming_jobs.config import (
    AlertRule,
    ConfigError,
    KafkaAuthMode,
    ValidationRules,
    parse_alert_rules,
    parse_interval,
    parse_kafka_auth,
    parse_symbols,
)
from streaming_jobs.io.kafka import KafkaSettings, kafka_options
from streaming_jobs.io.secrets import DictSecrets, MissingSecretError

STACK_RULES = json.dumps(  # exactly what components/databricks_jobs.py passes
    [
        {"metric": "price_change_pct", "name": "price_spike", "operator": ">=", "threshold": 5.0},
        {"metric": "volume", "name": "volume_surge", "operator": ">=", "threshold": 100000, "symbols": ["TSLA"]},
    ],
    sort_keys=True,
    separators=(",", ":"),
)


def test_intervals() -> None:
    assert parse_interval("30 seconds", "--watermark").seconds == 30
    assert parse_interval("1 minute", "--window").text == "1 minute"
    assert parse_interval("2 hours", "--window").seconds == 7200
    assert (parse_interval("30 seconds", "a") + parse_interval("1 minute", "b")).text == "90 seconds"


@pytest.mark.parametrize("bad", ["", "30", "thirty seconds", "30 sekonds", "0 seconds", "-5 seconds"])
def test_bad_interval_names_the_parameter(bad: str) -> None:
    with pytest.raises(ConfigError, match="--watermark"):
        parse_interval(bad, "--watermark")


def test_symbols() -> None:
    assert parse_symbols("aapl, MSFT,BRK.B") == ("AAPL", "MSFT", "BRK.B")
    with pytest.raises(ConfigError, match="--symbols: at least one"):
        parse_symbols(" , ")
    with pytest.raises(ConfigError, match="not a ticker symbol: \\$\\$"):
        parse_symbols("AAPL,$$")
    with pytest.raises(ConfigError, match="listed twice: AAPL"):
        parse_symbols("AAPL,aapl")


def test_state_watermark_covers_lateness_and_skew() -> None:
    rules = ValidationRules(symbols=("A",), watermark=parse_interval("30 seconds", "w"))
    assert rules.state_watermark.seconds == 90  # 30 s watermark + 1 min skew


def test_alert_rules_as_the_stack_passes_them() -> None:
    rules = parse_alert_rules(STACK_RULES)
    assert rules == (
        AlertRule("price_spike", "price_change_pct", ">=", Decimal("5.0")),
        AlertRule("volume_surge", "volume", ">=", Decimal("100000"), ("TSLA",)),
    )
    assert all(type(r.threshold) is Decimal for r in rules), "thresholds are exact decimals, never floats"
    assert rules[1].matches(100000, "TSLA") and not rules[1].matches(100000, "AAPL")
    assert not rules[0].matches(None, "AAPL")
    assert parse_alert_rules("[]") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"--alert-rules: not valid JSON \(Expecting property name"),
        ('{"name": "x"}', "expected a JSON list of rules, got dict"),
        ('[{"name": "x", "metric": "volume", "operator": ">"}]', r"--alert-rules\[0\]: missing 'threshold'"),
        ('[{"name": "x", "metric": "pricemove", "operator": ">", "threshold": 1}]', "unknown metric 'pricemove'"),
        ('[{"name": "x", "metric": "volume", "operator": "=>", "threshold": 1}]', "unknown operator '=>'"),
        ('[{"name": "x", "metric": "volume", "operator": ">", "threshold": "high"}]', "must be a finite number"),
        ('[{"name": "X Y", "metric": "volume", "operator": ">", "threshold": 1}]', "lower-case slug"),
        ('[{"name": "x", "metric": "volume", "operator": ">", "threshold": 1, "colour": 1}]', "unknown key"),
        (
            '[{"name": "x", "metric": "volume", "operator": ">", "threshold": 1},'
            ' {"name": "x", "metric": "volume", "operator": "<", "threshold": 1}]',
            "repeated: x",
        ),
    ],
)
def test_malformed_alert_rules(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_alert_rules(text)


def test_alert_rules_from_a_missing_file() -> None:
    with pytest.raises(ConfigError, match=r"--alert-rules: cannot read /nonexistent/rules\.json"):
        parse_alert_rules("@/nonexistent/rules.json")


GROUP = "bronze-ingest"


def test_unknown_kafka_auth_mode() -> None:
    with pytest.raises(ConfigError, match="unknown Kafka auth mode 'sas'; expected one of entra-service-credential"):
        parse_kafka_auth("sas")
    assert parse_kafka_auth("sasl-plain-secret-scope") is KafkaAuthMode.SASL_PLAIN_SECRET_SCOPE


def test_event_hubs_uses_the_service_credential_and_no_secret() -> None:
    settings = KafkaSettings(
        "ehns.servicebus.windows.net:9093",
        "trades",
        KafkaAuthMode.ENTRA_SERVICE_CREDENTIAL,
        service_credential="proc",
        group_id_prefix=GROUP,
    )
    opts = kafka_options(settings, secrets=None)
    assert opts["databricks.serviceCredential"] == "proc"
    assert opts["subscribe"] == "trades" and opts["startingOffsets"] == "earliest"
    assert not any("sasl" in k or "password" in v for k, v in opts.items())


def test_event_hubs_without_service_credential() -> None:
    settings = KafkaSettings("h:9093", "trades", KafkaAuthMode.ENTRA_SERVICE_CREDENTIAL, group_id_prefix=GROUP)
    with pytest.raises(ConfigError, match="needs --service-credential"):
        kafka_options(settings)


def test_confluent_reads_key_and_secret_from_the_scope() -> None:
    settings = KafkaSettings(
        "pkc.confluent.cloud:9092",
        "trades",
        KafkaAuthMode.SASL_PLAIN_SECRET_SCOPE,
        secret_scope="kv",
        api_key_secret="cc-key",
        api_secret_secret="cc-secret",
        group_id_prefix=GROUP,
    )
    opts = kafka_options(settings, DictSecrets({("kv", "cc-key"): "KEY1", ("kv", "cc-secret"): "s3cr/t+"}))
    assert opts["kafka.sasl.mechanism"] == "PLAIN" and opts["kafka.security.protocol"] == "SASL_SSL"
    assert 'username="KEY1" password="s3cr/t+";' in opts["kafka.sasl.jaas.config"]
    assert opts["kafka.sasl.jaas.config"].startswith("kafkashaded.org.apache.kafka")


def test_confluent_missing_secret_names_scope_and_key() -> None:
    settings = KafkaSettings(
        "b:9092", "t", KafkaAuthMode.SASL_PLAIN_SECRET_SCOPE, "", "kv", "cc-key", "cc-secret", group_id_prefix=GROUP
    )
    with pytest.raises(MissingSecretError, match="secret 'cc-secret' is not readable in secret scope 'kv'"):
        kafka_options(settings, DictSecrets({("kv", "cc-key"): "KEY1"}))


def test_confluent_missing_parameters() -> None:
    settings = KafkaSettings(
        "b:9092", "t", KafkaAuthMode.SASL_PLAIN_SECRET_SCOPE, secret_scope="kv", group_id_prefix=GROUP
    )
    with pytest.raises(ConfigError, match="needs --api-key-secret, --api-secret-secret"):
        settings.check()


@pytest.mark.parametrize("auth", list(KafkaAuthMode))
def test_the_source_consumes_under_the_granted_group_prefix(auth: KafkaAuthMode) -> None:
    settings = KafkaSettings("b:9092", "t", auth, "cred", "kv", "cc-key", "cc-secret", group_id_prefix="bronze-ingest")
    opts = kafka_options(settings, DictSecrets({("kv", "cc-key"): "K", ("kv", "cc-secret"): "S"}))
    # groupIdPrefix, not kafka.group.id: Spark keeps a unique group per query under the prefix.
    assert opts["groupIdPrefix"] == "bronze-ingest"
    assert "kafka.group.id" not in opts


@pytest.mark.parametrize("prefix", [None, "", "  ", "bronze ingest", "g" * 201])
def test_a_missing_or_malformed_group_prefix_is_refused(prefix: str | None) -> None:
    settings = KafkaSettings("b:9092", "t", KafkaAuthMode.ENTRA_SERVICE_CREDENTIAL, "c", group_id_prefix=prefix)
    with pytest.raises(ConfigError, match="--kafka-group-id-prefix"):
        settings.check()


def test_bad_starting_offsets() -> None:
    settings = KafkaSettings(
        "b:9092", "t", KafkaAuthMode.ENTRA_SERVICE_CREDENTIAL, "c", starting_offsets="oldest", group_id_prefix=GROUP
    )
    with pytest.raises(ConfigError, match="--starting-offsets"):
        settings.check()


def test_validation_rule_defaults() -> None:
    rules = ValidationRules(symbols=("A",), watermark=parse_interval("1 minute", "w"))
    assert rules.sides == ("BUY", "SELL") and rules.max_price == Decimal("1000000")
