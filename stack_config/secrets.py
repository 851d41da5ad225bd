"""The secrets a stack needs for a real `pulumi up`, named once for the config check and the offline preview.

The stack files ship no `secure:` values: Pulumi ciphertext decrypts only with the
data key of the stack's secrets provider (`encryptedkey:` in the stack file, made
by `pulumi stack init --secrets-provider` or `pulumi stack change-secrets-provider`;
Pulumi's stack settings file reference), so a shipped placeholder breaks every
real preview while loading config. Each operator sets the values with the
command below; offline, the engine stands in marked values and the preview
lists what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from stack_config.confluent import CLOUD_API_KEY, CLOUD_API_SECRET
from stack_config.model import PROJECT, IngestionProvider


@dataclass(frozen=True)
class RequiredSecret:
    key: str  # fully qualified config key
    why: str

    def set_command(self, stack: str) -> str:
        return f"pulumi config set --secret {self.key} <value> --stack {stack}"


CONFLUENT_SECRETS = (
    RequiredSecret(CLOUD_API_KEY, "Confluent Cloud API key (a Cloud key) of the deploying service account"),
    RequiredSecret(CLOUD_API_SECRET, "its secret"),
)


def _provider(get: Callable[[str], object]) -> str | None:
    raw = get(f"{PROJECT}:ingestion")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return None
    return raw.get("provider") if isinstance(raw, dict) else None


def required_secrets(get: Callable[[str], object]) -> list[RequiredSecret]:
    """The secrets this stack's config makes necessary (`get` reads a fully qualified key)."""
    if _provider(get) == IngestionProvider.CONFLUENT.value:
        return list(CONFLUENT_SECRETS)
    return []


def describe(key: str) -> RequiredSecret:
    """The declaration of a required secret, by its config key."""
    for secret in CONFLUENT_SECRETS:
        if secret.key == key:
            return secret
    return RequiredSecret(key, "a secret this stack needs")
