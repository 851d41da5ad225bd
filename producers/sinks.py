"""Where producers send events: a landing directory, Event Hubs, a Kafka endpoint, or memory.

Every sink takes events that carry their JSON payload and a partition key
(the symbol, so each symbol's order is kept on one partition) and raises when
the service did not accept every event: a producer advances its cursor only
after `send` returned, so nothing is lost between a failed send and a retry.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class OutgoingEvent(Protocol):
    @property
    def payload(self) -> str: ...

    @property
    def partition_key(self) -> str: ...


class EventSink(Protocol):
    def send(self, events: Sequence[OutgoingEvent]) -> None: ...

    def close(self) -> None: ...


class SinkError(RuntimeError):
    """The service refused or lost some events of a send; the caller must not advance its cursor."""


class LandingDirSink:
    """One JSON-lines file per send, written under a hidden name and renamed into place.

    Spark's file source skips names starting with '.', and a rename is atomic,
    so the stream never reads a half-written file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._n = 0

    def send(self, events: Sequence[OutgoingEvent]) -> None:
        if not events:
            return
        self._n += 1
        name = f"events-{time.time_ns()}-{self._n:08d}.jsonl"
        tmp = self.path / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("\n".join(e.payload for e in events))
            fh.write("\n")
        os.replace(tmp, self.path / name)

    def close(self) -> None:
        pass


class MemorySink:
    """Keeps what was sent (tests, dry runs)."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.keys: list[str] = []

    def send(self, events: Sequence[OutgoingEvent]) -> None:
        self.payloads.extend(e.payload for e in events)
        self.keys.extend(e.partition_key for e in events)

    def close(self) -> None:
        pass


class EventHubsSink:
    """Event Hubs through azure-eventhub with an Entra ID credential (no connection string, no SAS).

    Events of one partition key go in one batch per key, so each symbol's order is kept.
    `credential` defaults to DefaultAzureCredential; the Function passes its user-assigned
    identity's ManagedIdentityCredential.
    """

    def __init__(self, namespace: str, eventhub: str, credential: Any = None) -> None:
        from azure.eventhub import EventHubProducerClient

        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self._client = EventHubProducerClient(
            fully_qualified_namespace=namespace_fqdn(namespace), eventhub_name=eventhub, credential=credential
        )

    def send(self, events: Sequence[OutgoingEvent]) -> None:
        from azure.eventhub import EventData

        for key, items in _by_key(events).items():
            batch = self._client.create_batch(partition_key=key)
            for e in items:
                data = EventData(e.payload)
                try:
                    batch.add(data)
                except ValueError:  # batch full: send it and start another
                    self._client.send_batch(batch)
                    batch = self._client.create_batch(partition_key=key)
                    batch.add(data)
            self._client.send_batch(batch)

    def close(self) -> None:
        self._client.close()


def namespace_fqdn(namespace: str) -> str:
    return namespace if "." in namespace else f"{namespace}.servicebus.windows.net"


def _by_key(events: Sequence[OutgoingEvent]) -> dict[str, list[OutgoingEvent]]:
    by_key: dict[str, list[OutgoingEvent]] = {}
    for e in events:
        by_key.setdefault(e.partition_key, []).append(e)
    return by_key


# ---------------------------------------------------------------------------------------------
# Kafka: Confluent Cloud (SASL/PLAIN with an API key from Key Vault) or the Event Hubs Kafka
# endpoint (SASL/OAUTHBEARER with an Entra ID token), through confluent-kafka (librdkafka).

EVENTHUBS_KAFKA_PORT = 9093


@dataclass(frozen=True)
class ConfluentKey:
    """A Confluent Cloud API key pair (the cluster-scoped key the producer service account owns)."""

    key: str
    secret: str

    def __repr__(self) -> str:  # never print the secret
        return f"ConfluentKey(key={self.key!r}, secret=***)"


def confluent_key_from_key_vault(
    vault_url: str, key_secret_name: str, secret_secret_name: str, credential: Any = None
) -> ConfluentKey:
    """Read the API key pair from Key Vault with an Entra ID credential (the stack exports the secret names)."""
    from azure.keyvault.secrets import SecretClient

    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    client = SecretClient(vault_url=vault_url, credential=credential)
    values = {}
    for name in (key_secret_name, secret_secret_name):
        value = client.get_secret(name).value
        if not value:
            raise SinkError(f"Key Vault secret {name!r} in {vault_url} is empty")
        values[name] = value
    return ConfluentKey(values[key_secret_name], values[secret_secret_name])


def confluent_settings(bootstrap_servers: str, key: ConfluentKey) -> dict[str, Any]:
    """librdkafka settings for Confluent Cloud: TLS plus SASL/PLAIN with the API key as user name.

    Source: Confluent, "Configure clients for Confluent Cloud" (security.protocol SASL_SSL,
    sasl.mechanisms PLAIN, sasl.username = API key, sasl.password = API secret).
    """
    return {
        "bootstrap.servers": bootstrap_servers,
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": key.key,
        "sasl.password": key.secret,
    }


TokenProvider = Callable[[str], tuple[str, float]]


def entra_token_provider(credential: Any = None) -> TokenProvider:
    """An OAUTHBEARER callback: an Entra ID token for the namespace and its expiry (epoch seconds)."""
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()

    def provide(scope: str) -> tuple[str, float]:
        token = credential.get_token(scope)
        return token.token, float(token.expires_on)

    return provide


def eventhubs_kafka_settings(namespace: str, token_provider: TokenProvider) -> dict[str, Any]:
    """librdkafka settings for the Event Hubs Kafka endpoint with Entra ID (SAS is disabled on the namespace).

    Source: Microsoft, "Use Azure Event Hubs from Apache Kafka applications" and the OAuth sample in
    Azure/azure-event-hubs-for-kafka (tutorials/oauth/python): port 9093, SASL_SSL, OAUTHBEARER, a token
    for the scope https://<namespace>.servicebus.windows.net/.default.
    """
    fqdn = namespace_fqdn(namespace)
    scope = f"https://{fqdn}/.default"
    return {
        "bootstrap.servers": f"{fqdn}:{EVENTHUBS_KAFKA_PORT}",
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "OAUTHBEARER",
        # librdkafka calls this with the sasl.oauthbearer.config string; the scope is fixed here.
        "oauth_cb": lambda _config: token_provider(scope),
    }


# Delivery guarantees shared by both endpoints: the broker acknowledges on every in-sync replica,
# and the idempotent producer never writes a retried message twice.
RELIABLE_PRODUCER = {"acks": "all", "enable.idempotence": True, "linger.ms": 20, "compression.type": "lz4"}


class KafkaSink:
    """Kafka producer (confluent-kafka). `send` returns only when every event was acknowledged."""

    def __init__(self, topic: str, settings: Mapping[str, Any], flush_timeout_seconds: float = 60.0) -> None:
        from confluent_kafka import Producer

        self.topic = topic
        self._flush_timeout = flush_timeout_seconds
        self._producer = Producer({**RELIABLE_PRODUCER, **settings})
        self.delivered: list[tuple[str, int, int]] = []  # (key, partition, offset) of the last send

    def send(self, events: Sequence[OutgoingEvent]) -> None:
        failures: list[str] = []
        self.delivered = []

        def report(err: Any, msg: Any) -> None:
            if err is not None:
                failures.append(str(err))
            else:
                self.delivered.append((msg.key().decode(), msg.partition(), msg.offset()))

        for e in events:
            while True:
                try:
                    self._producer.produce(
                        self.topic, e.payload.encode("utf-8"), key=e.partition_key.encode(), on_delivery=report
                    )
                    break
                except BufferError:  # local queue full: let deliveries drain, then retry this event
                    self._producer.poll(0.5)
        remaining = self._producer.flush(self._flush_timeout)
        if remaining or failures:
            raise SinkError(
                f"Kafka topic {self.topic!r}: {len(failures)} event(s) refused, {remaining} unacknowledged "
                f"after {self._flush_timeout:g} s" + (f"; first error: {failures[0]}" if failures else "")
            )

    def close(self) -> None:
        self._producer.flush(self._flush_timeout)
