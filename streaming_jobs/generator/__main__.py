"""CLI: python -m streaming_jobs.generator --rate 1000 --seconds 60 --landing out/landing

or, to Event Hubs with the signed-in / managed identity (no connection string):
python -m streaming_jobs.generator --rate 200 --seconds 300 --eventhubs-namespace <ns> --eventhub trades

or, through Kafka: to the Event Hubs Kafka endpoint with an Entra ID token (OAUTHBEARER),
python -m streaming_jobs.generator --rate 200 --seconds 300 --eventhubs-kafka <ns> --eventhub trades
or to Confluent Cloud with the producer's API key read from Key Vault (the stack exports the secret names):
python -m streaming_jobs.generator --rate 200 --seconds 300 --kafka-bootstrap <servers> --eventhub trades \
    --key-vault-url https://<vault>.vault.azure.net --api-key-secret <name> --api-secret-secret <name>
"""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import timedelta

from producers.sinks import (
    EventHubsSink,
    EventSink,
    KafkaSink,
    LandingDirSink,
    confluent_key_from_key_vault,
    confluent_settings,
    entra_token_provider,
    eventhubs_kafka_settings,
)
from streaming_jobs.generator.events import GeneratorConfig, MarketSimulator
from streaming_jobs.generator.sinks import RateController, run_generator


def make_sink(args: argparse.Namespace) -> EventSink:
    """The sink the target options name (exactly one of them is given)."""
    if args.landing:
        return LandingDirSink(args.landing)
    if args.eventhubs_namespace:
        return EventHubsSink(args.eventhubs_namespace, args.eventhub)
    if args.eventhubs_kafka:
        return KafkaSink(args.eventhub, eventhubs_kafka_settings(args.eventhubs_kafka, entra_token_provider()))
    key = confluent_key_from_key_vault(args.key_vault_url, args.api_key_secret, args.api_secret_secret)
    return KafkaSink(args.eventhub, confluent_settings(args.kafka_bootstrap, key))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streaming_jobs.generator", description="Trade-event generator")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--landing", help="local landing directory (JSON lines files)")
    target.add_argument("--eventhubs-namespace", help="Event Hubs namespace name or FQDN (AMQP, Entra ID)")
    target.add_argument("--eventhubs-kafka", help="Event Hubs namespace, through its Kafka endpoint (OAUTHBEARER)")
    target.add_argument("--kafka-bootstrap", help="Confluent Cloud bootstrap servers (SASL key from Key Vault)")
    p.add_argument("--eventhub", default="trades", help="event hub (topic) name")
    p.add_argument("--key-vault-url", help="with --kafka-bootstrap: the vault holding the producer's API key")
    p.add_argument("--api-key-secret", help="with --kafka-bootstrap: Key Vault secret name of the API key")
    p.add_argument("--api-secret-secret", help="with --kafka-bootstrap: Key Vault secret name of the API secret")
    p.add_argument("--rate", type=float, default=1000.0, help="events per second (before bursts)")
    p.add_argument("--seconds", type=float, help="stop after this long")
    p.add_argument("--max-events", type=int, help="stop after this many events")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--duplicate-rate", type=float, default=0.02)
    p.add_argument("--late-rate", type=float, default=0.01, help="share of events later than the watermark")
    p.add_argument("--late-ok-rate", type=float, default=0.02, help="share of events late within the watermark")
    p.add_argument("--malformed-rate", type=float, default=0.02)
    p.add_argument("--late-seconds", type=float, default=300.0, help="how late late events are (> watermark)")
    p.add_argument("--burst-probability", type=float, default=0.02, help="bursts per second")
    args = p.parse_args(argv)
    if args.seconds is None and args.max_events is None:
        p.error("give --seconds or --max-events (the generator always stops by itself)")
    if args.rate <= 0:
        p.error("--rate must be positive")
    if args.kafka_bootstrap and not (args.key_vault_url and args.api_key_secret and args.api_secret_secret):
        p.error("--kafka-bootstrap needs --key-vault-url, --api-key-secret and --api-secret-secret")
    try:
        config = GeneratorConfig(
            seed=args.seed,
            duplicate_rate=args.duplicate_rate,
            late_rate=args.late_rate,
            late_ok_rate=args.late_ok_rate,
            malformed_rate=args.malformed_rate,
            late_by=timedelta(seconds=args.late_seconds),
        )
    except ValueError as exc:
        p.error(str(exc))
    sink = make_sink(args)
    stop = {"now": False}
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    try:
        stats = run_generator(
            MarketSimulator(config),
            sink,
            RateController(args.rate, burst_probability=args.burst_probability, seed=args.seed),
            seconds=args.seconds,
            max_events=args.max_events,
            should_stop=lambda: stop["now"],
        )
    finally:
        sink.close()
    print(f"sent {stats.sent} events: " + ", ".join(f"{k}={v}" for k, v in sorted(stats.by_kind.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
