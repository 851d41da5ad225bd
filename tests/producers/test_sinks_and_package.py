"""The producers' Kafka sink (on librdkafka's in-process mock cluster), its auth settings, the
Function's programming-model wiring, and the deployment package the stack deploys by hash."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from producers import package
from producers.sinks import (
    ConfluentKey,
    KafkaSink,
    SinkError,
    confluent_settings,
    entra_token_provider,
    eventhubs_kafka_settings,
)

# librdkafka's mock cluster: a real Kafka protocol broker inside the client process (no network).
MOCK_CLUSTER = {"test.mock.num.brokers": 1, "bootstrap.servers": ""}


@dataclass(frozen=True)
class Event:
    payload: str
    partition_key: str


def test_kafka_sink_returns_only_when_every_event_is_acknowledged() -> None:
    sink = KafkaSink("trades", MOCK_CLUSTER)
    events = [Event(f'{{"n":{i}}}', ["AAPL", "MSFT", "NVDA"][i % 3]) for i in range(30)]
    sink.send(events)
    assert len(sink.delivered) == 30
    partitions: dict[str, set[int]] = {}
    for key, partition, _offset in sink.delivered:
        partitions.setdefault(key, set()).add(partition)
    assert all(len(p) == 1 for p in partitions.values())  # one symbol, one partition: order kept
    offsets = [o for k, _p, o in sink.delivered if k == "AAPL"]
    assert offsets == sorted(offsets)
    sink.close()


def test_kafka_sink_raises_when_the_broker_does_not_acknowledge() -> None:
    # Nothing listens on this port: after the flush timeout the events are still unacknowledged.
    sink = KafkaSink("trades", {"bootstrap.servers": "127.0.0.1:1", "message.timeout.ms": 500}, 2.0)
    with pytest.raises(SinkError, match="trades"):
        sink.send([Event("{}", "AAPL")])


def test_confluent_settings_use_the_api_key_over_sasl_plain() -> None:
    key = ConfluentKey("KEY123", "SECRET456")
    settings = confluent_settings("pkc-1.westeurope.azure.confluent.cloud:9092", key)
    assert settings["security.protocol"] == "SASL_SSL" and settings["sasl.mechanisms"] == "PLAIN"
    assert (settings["sasl.username"], settings["sasl.password"]) == ("KEY123", "SECRET456")
    assert "SECRET456" not in repr(key)


def test_eventhubs_kafka_settings_use_an_entra_token_for_the_namespace() -> None:
    scopes: list[str] = []

    class Credential:
        def get_token(self, scope: str) -> SimpleNamespace:
            scopes.append(scope)
            return SimpleNamespace(token="jwt", expires_on=1_900_000_000)

    settings = eventhubs_kafka_settings("evhns-rta", entra_token_provider(Credential()))
    assert settings["bootstrap.servers"] == "evhns-rta.servicebus.windows.net:9093"
    assert (settings["security.protocol"], settings["sasl.mechanisms"]) == ("SASL_SSL", "OAUTHBEARER")
    assert settings["oauth_cb"]("ignored") == ("jwt", 1_900_000_000.0)
    assert scopes == ["https://evhns-rta.servicebus.windows.net/.default"]


def test_the_function_app_is_a_v2_timer_on_the_configured_schedule() -> None:
    from producers.api_poller.function_app import app

    functions = app.get_functions()
    assert [f.get_function_name() for f in functions] == ["poll_trades_api"]
    trigger = functions[0].get_trigger()
    assert trigger.get_binding_name() == "timerTrigger"
    assert trigger.get_dict_repr()["schedule"] == "%POLLER_SCHEDULE%"


def test_the_package_is_reproducible_and_its_hash_follows_its_files(tmp_path: Path) -> None:
    first = package.build(tmp_path / "a")
    again = package.build(tmp_path / "b")
    assert first.read_bytes() == again.read_bytes()
    names = {arc for _src, arc in package.package_files()}
    assert {"function_app.py", "host.json", "requirements.txt", "producers/api_poller/poller.py"} <= names
    assert "producers/package.py" not in names
    copy = tmp_path / "repo"
    shutil.copytree(package.REPO / "producers", copy / "producers", ignore=shutil.ignore_patterns("__pycache__"))
    assert package.content_hash(copy) == package.content_hash()
    (copy / "producers" / "api_poller" / "mapping.py").write_text("# changed\n", encoding="utf-8")
    assert package.content_hash(copy) != package.content_hash()
