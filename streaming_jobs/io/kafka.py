"""The Kafka source: Event Hubs' Kafka endpoint with Entra ID, or Confluent Cloud with an API key.

Event Hubs: OAUTHBEARER through a Unity Catalog service credential
(`databricks.serviceCredential`, Databricks Runtime 16.1+), backed by the
processor's managed identity: no SAS key or connection string exists.
Confluent: SASL/PLAIN with the API key and secret read from the Key Vault-backed
secret scope at start; they are never parameters or logged.

Consumer group: the source sets `groupIdPrefix` to the prefix the stack grants.
Without it Spark names its groups `spark-kafka-source-<uuid>-<hash>`, which the
Confluent role binding `group=<prefix>*` does not match. The prefix, not a fixed
`kafka.group.id`, keeps Spark's unique group per query (two queries on one id
would steal each other's partitions), and every id Spark derives from it starts
with the prefix (Spark's Kafka integration guide, options `groupIdPrefix` and
`kafka.group.id`: https://spark.apache.org/docs/3.5.2/structured-streaming-kafka-integration.html).
On Event Hubs the Kafka group is created on first use and is distinct from the
hub's Event Hubs consumer groups (Microsoft's "Event Hubs for Apache Kafka" FAQ,
"Event Hubs consumer group vs. Kafka consumer group").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from streaming_jobs.config import ConfigError, KafkaAuthMode
from streaming_jobs.io.secrets import SecretReader

# Kafka group ids may hold more, but the stack's prefixes are plain (stack_config GroupPrefix).
GROUP_ID_PREFIX = re.compile(r"[a-zA-Z0-9._-]{1,200}")


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    topic: str
    auth: KafkaAuthMode
    service_credential: str | None = None
    secret_scope: str | None = None
    api_key_secret: str | None = None
    api_secret_secret: str | None = None
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: int | None = None
    # The stack's consumer-group prefix (`--kafka-group-id-prefix`); see the module docstring.
    group_id_prefix: str | None = None

    def check(self) -> None:
        """Mode-specific parameters, checked before any connection is tried."""
        if not self.bootstrap_servers.strip():
            raise ConfigError("--kafka-bootstrap-servers: empty")
        if not self.topic.strip():
            raise ConfigError("--kafka-topic: empty")
        if not (self.group_id_prefix or "").strip():
            raise ConfigError(
                "--kafka-group-id-prefix: empty; without it Spark's generated group ids "
                "(spark-kafka-source-...) match no consumer-group grant"
            )
        if not GROUP_ID_PREFIX.fullmatch(str(self.group_id_prefix)):
            raise ConfigError(f"--kafka-group-id-prefix: {self.group_id_prefix!r} is not 1-200 of a-z A-Z 0-9 . _ -")
        if self.auth is KafkaAuthMode.ENTRA_SERVICE_CREDENTIAL:
            if not self.service_credential:
                raise ConfigError(
                    f"--kafka-auth {self.auth.value} needs --service-credential (the Unity Catalog service "
                    f"credential of the processor identity)"
                )
        else:
            missing = [
                p
                for p, v in (
                    ("--secret-scope", self.secret_scope),
                    ("--api-key-secret", self.api_key_secret),
                    ("--api-secret-secret", self.api_secret_secret),
                )
                if not v
            ]
            if missing:
                raise ConfigError(f"--kafka-auth {self.auth.value} needs {', '.join(missing)}")
        if self.starting_offsets not in ("earliest", "latest") and not self.starting_offsets.lstrip().startswith("{"):
            raise ConfigError(
                f"--starting-offsets: {self.starting_offsets!r} is not earliest, latest or a JSON offsets object"
            )


def kafka_options(settings: KafkaSettings, secrets: SecretReader | None = None) -> dict[str, str]:
    """Options for spark.readStream.format("kafka"). Reads the Confluent secrets (only) when needed."""
    settings.check()
    options = {
        "kafka.bootstrap.servers": settings.bootstrap_servers,
        "subscribe": settings.topic,
        "startingOffsets": settings.starting_offsets,
        # Spark names each query's groups <prefix>-<uuid>-<hash>[-executor]: all under the granted prefix.
        "groupIdPrefix": str(settings.group_id_prefix),
        # Retention expiring unread data is a loss: fail loudly instead of skipping it.
        "failOnDataLoss": "true",
        "kafka.request.timeout.ms": "60000",
        "kafka.session.timeout.ms": "30000",
    }
    if settings.max_offsets_per_trigger:
        options["maxOffsetsPerTrigger"] = str(settings.max_offsets_per_trigger)
    if settings.auth is KafkaAuthMode.ENTRA_SERVICE_CREDENTIAL:
        # Databricks configures SASL_SSL + OAUTHBEARER and fetches tokens with this credential.
        options["databricks.serviceCredential"] = str(settings.service_credential)
        return options
    if secrets is None:
        raise ConfigError(f"--kafka-auth {settings.auth.value}: no secret reader (only available on Databricks)")
    scope = str(settings.secret_scope)
    key = secrets.get(scope, str(settings.api_key_secret))
    secret = secrets.get(scope, str(settings.api_secret_secret))
    if '"' in key or '"' in secret:
        raise ConfigError(f"the Confluent API key or secret in scope {scope!r} contains a double quote")
    options.update(
        {
            "kafka.security.protocol": "SASL_SSL",
            "kafka.sasl.mechanism": "PLAIN",
            # Databricks ships the Kafka client shaded under kafkashaded.
            "kafka.sasl.jaas.config": (
                "kafkashaded.org.apache.kafka.common.security.plain.PlainLoginModule required "
                f'username="{key}" password="{secret}";'
            ),
            "kafka.ssl.endpoint.identification.algorithm": "https",
        }
    )
    return options


def read_kafka(spark: SparkSession, options: dict[str, str]) -> DataFrame:
    return spark.readStream.format("kafka").options(**options).load()
