"""Builds the sink, cursor store and client the settings name, and runs one polling pass."""

from __future__ import annotations

from typing import Any

from producers.api_poller.client import ApiClient
from producers.api_poller.cursor import BlobCursorStore, CursorStore, FileCursorStore
from producers.api_poller.poller import PollResult, poll_once
from producers.api_poller.settings import PollerSettings, SinkKind
from producers.sinks import (
    ConfluentKey,
    EventHubsSink,
    EventSink,
    KafkaSink,
    LandingDirSink,
    confluent_settings,
    entra_token_provider,
    eventhubs_kafka_settings,
)


def managed_identity(settings: PollerSettings) -> Any:
    """The app's user-assigned identity (its client id is an app setting), else the developer's credential."""
    if settings.identity_client_id:
        from azure.identity import ManagedIdentityCredential

        return ManagedIdentityCredential(client_id=settings.identity_client_id)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def make_sink(settings: PollerSettings, credential: Any = None) -> EventSink:
    if settings.sink is SinkKind.LANDING:
        return LandingDirSink(settings.landing_dir)
    credential = credential or managed_identity(settings)
    if settings.sink is SinkKind.EVENTHUBS:
        return EventHubsSink(settings.eventhubs_namespace, settings.topic, credential)
    if settings.sink is SinkKind.KAFKA_EVENTHUBS:
        return KafkaSink(
            settings.topic, eventhubs_kafka_settings(settings.eventhubs_namespace, entra_token_provider(credential))
        )
    key = ConfluentKey(settings.kafka_api_key, settings.kafka_api_secret)
    return KafkaSink(settings.topic, confluent_settings(settings.kafka_bootstrap, key))


def make_cursor(settings: PollerSettings, fallback_path: str, credential: Any = None) -> CursorStore:
    if settings.cursor_blob_url:
        return BlobCursorStore(settings.cursor_blob_url, credential or managed_identity(settings))
    return FileCursorStore(fallback_path)


def run_from_settings(settings: PollerSettings, *, cursor_path: str = "out/api-poller/cursor.json") -> PollResult:
    client = ApiClient(settings)
    sink = make_sink(settings)
    try:
        return poll_once(settings, client, make_cursor(settings, cursor_path), sink)
    finally:
        sink.close()
        client.close()
