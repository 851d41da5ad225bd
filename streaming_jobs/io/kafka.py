"""The Kafka source: Event Hubs' Kafka endpoint with Entra ID, or Confluent Cloud with an API key.

Event Hubs: OAUTHBEARER through a Unity Catalog service credential
(`databricks.serviceCredential`, Databricks Runtime 16.1+), backed by the
processor's managed identity: no SAS key or connection string exists.
Confluent: SASL/PLAIN with the API key and secret read from the Key Vault-backed
secret scope at start; they are never parameters or logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from streaming_jobs.config import ConfigError, KafkaAuthMode
from streaming_jobs.io.secrets import SecretReader


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

    def check(self) -> None:
        """Mode-specific parameters, checked before any connection is tried."""
        if not self.bootstrap_servers.strip():
            raise ConfigError("--kafka-bootstrap-servers: empty")
        if not self.topic.strip():
            raise ConfigError("--kafka-topic: empty")
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
