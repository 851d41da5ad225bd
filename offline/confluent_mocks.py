"""Mock answers for pulumi-confluentcloud resources: ids and computed outputs shaped like the provider's.

Used by `offline.engine.PlatformMocks`. Everything is derived from the resource's
type, logical name and inputs, so a run is deterministic and the values agree
with each other (a cluster's bootstrap endpoint lives under its network's DNS
domain; a role binding's CRN names the cluster's id).
"""

from __future__ import annotations

import hashlib
from typing import Any

ORGANIZATION_ID = "00000000-0000-0000-0000-00000000dddd"
PREFIX = "confluentcloud:index/"
# What the mock's API keys' secrets start with, so tests can look for leaks.
API_SECRET_MARKER = "mock-confluent-api-secret-"
API_KEY_MARKER = "MOCKKEY"

# Id prefixes Confluent uses, by resource type.
_ID_PREFIX = {
    "environment:Environment": "env",
    "network:Network": "n",
    "privateLinkAccess:PrivateLinkAccess": "pla",
    "kafkaCluster:KafkaCluster": "lkc",
    "serviceAccount:ServiceAccount": "sa",
    "roleBinding:RoleBinding": "rb",
}


def handles(token: str) -> bool:
    return token.startswith(PREFIX)


def _short(token: str) -> str:
    return token.removeprefix(PREFIX).split("/", 1)[-1] if "/" in token else token.removeprefix(PREFIX)


def _digest(token: str, name: str, n: int = 6) -> str:
    return hashlib.sha1(f"{token}/{name}".encode()).hexdigest()[:n]


def _ref_id(value: Any) -> str | None:
    """`{"id": "env-123"}` (a nested reference input) -> "env-123"."""
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def dns_domain(network_id: str, region: str) -> str:
    """A network's DNS domain: its own first label (`pr123a` in the provider's docs), never the network id.

    confluentinc/terraform-provider-confluent docs/resources/confluent_network.md, `dns_domain`:
    "for example, `pr123a.us-east-2.aws.confluent.cloud`". Nothing may derive the zone name from the
    id; the stack takes it from the network's `dns_domain` output.
    """
    return f"pr{_digest('dns-label', network_id, 5)}.{region}.azure.confluent.cloud"


def resource_id(token: str, name: str, inputs: dict[str, Any]) -> str:
    short = _short(token)
    if short == "apiKey:ApiKey":
        return f"{API_KEY_MARKER}{_digest(token, name, 9).upper()}"
    if short == "kafkaTopic:KafkaTopic":
        cluster = _ref_id(inputs.get("kafkaCluster")) or "lkc-unknown"
        return f"{cluster}/{inputs.get('topicName', name)}"
    prefix = _ID_PREFIX.get(short)
    if prefix is not None:
        return f"{prefix}-{_digest(token, name, 5)}"
    return f"{name}-{_digest(token, name, 12)}"


def outputs(token: str, name: str, resource_id_: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Computed outputs to merge over the inputs."""
    short = _short(token)
    org = f"crn://confluent.cloud/organization={ORGANIZATION_ID}"
    region = str(inputs.get("region", "westeurope"))
    if short == "environment:Environment":
        return {"resourceName": f"{org}/environment={resource_id_}"}
    if short == "network:Network":
        env = _ref_id(inputs.get("environment"))
        domain = dns_domain(resource_id_, region)
        zones = ("1", "2", "3")
        suffix = f"{_digest(token, name, 8)}-0000-0000-0000-{_digest('alias', name, 12)}"
        return {
            "resourceName": f"{org}/environment={env}/network={resource_id_}",
            "dnsDomain": domain,
            "endpointSuffix": f".{domain}",
            "zonalSubdomains": {z: f"az{z}.{domain}" for z in zones},
            "zones": list(zones),
            "azures": [
                {
                    "privateLinkServiceAliases": {
                        z: f"s-{resource_id_}-privatelink-{z}.{suffix}.{region}.azure.privatelinkservice" for z in zones
                    }
                }
            ],
        }
    if short == "privateLinkAccess:PrivateLinkAccess":
        return {}
    if short == "kafkaCluster:KafkaCluster":
        env = _ref_id(inputs.get("environment"))
        network = _ref_id(inputs.get("network"))
        host_domain = dns_domain(network, region) if network else f"{region}.azure.confluent.cloud"
        host = f"{resource_id_}.{host_domain}" if network else f"pkc-{_digest(token, name, 5)}.{host_domain}"
        return {
            "apiVersion": "cmk/v2",
            "kind": "Cluster",
            "bootstrapEndpoint": f"SASL_SSL://{host}:9092",
            "restEndpoint": f"https://{host}:443",
            "rbacCrn": f"{org}/environment={env}/cloud-cluster={resource_id_}",
        }
    if short == "serviceAccount:ServiceAccount":
        return {"apiVersion": "iam/v2", "kind": "ServiceAccount"}
    if short == "apiKey:ApiKey":
        # The SDK marks `secret` as an additional secret output; the value is still recognisable.
        return {"secret": f"{API_SECRET_MARKER}{hashlib.sha256(f'{token}/{name}'.encode()).hexdigest()[:40]}"}
    return {}
