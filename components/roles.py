"""The built-in Azure roles the platform grants, by GUID.

Only narrow data-plane roles live here on purpose: Owner, Contributor and User
Access Administrator are absent, so no component can grant them.
"""

from __future__ import annotations

from enum import Enum

import pulumi


class BuiltInRole(Enum):
    """Built-in role GUIDs (stable across tenants)."""

    EVENT_HUBS_DATA_SENDER = ("2b629674-e913-4c01-ae53-ef4638d8f975", "Azure Event Hubs Data Sender")
    EVENT_HUBS_DATA_RECEIVER = ("a638d3c7-ab3a-418d-83e6-5f17a39d4fde", "Azure Event Hubs Data Receiver")
    STORAGE_BLOB_DATA_CONTRIBUTOR = ("ba92f5b4-2d11-453d-a403-e96b0029c9fe", "Storage Blob Data Contributor")
    STORAGE_BLOB_DATA_READER = ("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "Storage Blob Data Reader")
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = (
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "Key Vault Crypto Service Encryption User",
    )
    KEY_VAULT_SECRETS_USER = ("4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User")
    STORAGE_BLOB_DATA_OWNER = ("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner")
    MONITORING_METRICS_PUBLISHER = ("3913510d-42f4-4e42-8a64-420c390055eb", "Monitoring Metrics Publisher")

    def __init__(self, guid: str, display_name: str) -> None:
        self.guid = guid
        self.display_name = display_name

    def definition_id(self, subscription_id: pulumi.Input[str]) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", self.guid
        )
