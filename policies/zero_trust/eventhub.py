"""Event Hubs: Entra-only, TLS 1.2, private (catalogue rows EH-*)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    Framework,
    Graph,
    Meta,
    Res,
    as_bool,
    is_unknown,
    lower,
    mcsb,
    resource_policy,
    set_top_level,
    stack_policy,
)
from .private_link import missing_private_endpoints

NAMESPACE = AZ + "eventhub:Namespace"
RULE_SET = AZ + "eventhub:NamespaceNetworkRuleSet"
SVC = "eventhub"


@resource_policy(
    Meta(
        name="eventhub-local-auth-disabled",
        control="EH-01",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description="Event Hubs namespaces disable SAS (local) authentication: disableLocalAuth=true.",
        why=(
            "SAS keys are shared secrets outside Entra ID; a missing value keeps them valid for producers and Kafka "
            "clients."
        ),
        remediation=(
            "Set disableLocalAuth=true and grant Azure Event Hubs Data Sender/Receiver roles to managed identities."
        ),
        framework=mcsb("IM-1", anchors="Azure Policy 5d4e3c65; Azure.EventHub.DisableLocalAuth"),
    ),
    [NAMESPACE],
)
def local_auth_disabled(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    value = as_bool(r.get("disableLocalAuth"))
    if value is None:
        yield "disableLocalAuth is not set; Azure then accepts SAS keys."
    elif value is False:
        yield "disableLocalAuth is false: SAS keys authorize producers and consumers."


@resource_policy(
    Meta(
        name="eventhub-min-tls",
        control="EH-02",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Event Hubs namespaces require TLS 1.2: minimumTlsVersion "1.2", set explicitly.',
        why=(
            "The provider documents no default, and older namespaces accepted TLS 1.0; an explicit value is the only "
            "one a review can trust."
        ),
        remediation='Set minimumTlsVersion="1.2".',
        framework=mcsb("DP-3", anchors="CKV_AZURE_223; Azure.EventHub.MinTLS"),
    ),
    [NAMESPACE],
    fix=set_top_level("minimumTlsVersion", "1.2", unless=lambda v: v in ("1.2", "1.3")),
)
def min_tls(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    value = r.get("minimumTlsVersion")
    if value is None:
        yield "minimumTlsVersion is not set."
    elif not is_unknown(value) and str(value) not in ("1.2", "1.3"):
        yield f"minimumTlsVersion is {value!r}; 1.2 is the minimum."


@resource_policy(
    Meta(
        name="eventhub-public-network-disabled",
        control="EH-03",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            'Event Hubs namespaces disable public network access (publicNetworkAccess "Disabled"), and no '
            "NamespaceNetworkRuleSet re-opens it with an allow-all default."
        ),
        why="Public access is on by default; a network rule set overrides the namespace setting.",
        remediation=(
            'Set publicNetworkAccess="Disabled"; in any NamespaceNetworkRuleSet set publicNetworkAccess="Disabled" or '
            'defaultAction="Deny".'
        ),
        framework=mcsb("NS-2", "v2", anchors="Azure Policy 0602787f; Azure.EventHub.Firewall"),
    ),
    [NAMESPACE, RULE_SET],
)
def public_network_disabled(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    value = r.get("publicNetworkAccess")
    if r.type == RULE_SET:
        action = r.get("defaultAction")
        if is_unknown(value) or is_unknown(action):
            return
        if lower(value or "Enabled") != "disabled" and lower(action or "Allow") != "deny":
            yield f"the rule set leaves public access {value or 'Enabled'} with defaultAction {action or 'Allow'}."
        return
    if value is None:
        yield "publicNetworkAccess is not set; Azure then enables public access."
    elif not is_unknown(value) and lower(value) != "disabled":
        yield f"publicNetworkAccess is {value!r}."


@stack_policy(
    Meta(
        name="eventhub-private-endpoint",
        control="EH-04",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Every Event Hubs namespace has a private endpoint (group id "namespace").',
        why="Producers and Spark consumers reach a closed namespace only through its private endpoint.",
        remediation=(
            "Add a network:PrivateEndpoint with privateLinkServiceConnections=[{privateLinkServiceId: <namespace id>, "
            'groupIds: ["namespace"]}].'
        ),
        framework=mcsb("NS-2", "v2", anchors="Azure Policy b8564268"),
    )
)
def private_endpoint(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for ns in graph.of_type(NAMESPACE):
        for group in missing_private_endpoints(graph, ns, ["namespace"]):
            yield ns.urn, f"Event Hubs namespace {ns.name!r} has no private endpoint for group id {group!r}."


@resource_policy(
    Meta(
        name="eventhub-customer-managed-key",
        control="EH-06",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Premium Event Hubs namespaces encrypt with a customer-managed key (encryption.keySource "
            '"Microsoft.KeyVault") and infrastructure encryption.'
        ),
        why=(
            "A platform-owned key can be revoked to make captured events unreadable; only Premium and Dedicated tiers "
            "support it."
        ),
        remediation=(
            'Set encryption={"keySource": "Microsoft.KeyVault", "keyVaultProperties": [...], '
            '"requireInfrastructureEncryption": true} with a user-assigned identity.'
        ),
        framework=Framework("Microsoft cloud security benchmark", "DP-5", "v2", "Azure Policy a1ad735a, 836cd60e"),
    ),
    [NAMESPACE],
)
def customer_managed_key(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    tier = r.get("sku.name")
    if is_unknown(tier) or lower(tier) != "premium":
        return
    if lower(r.get("encryption.keySource")) not in ("microsoft.keyvault",) and not is_unknown(
        r.get("encryption.keySource")
    ):
        yield "encryption.keySource is not Microsoft.KeyVault."
    if (
        as_bool(r.get("encryption.requireInfrastructureEncryption")) is False
        or r.get("encryption.requireInfrastructureEncryption") is None
    ):
        yield "encryption.requireInfrastructureEncryption is not true."


POLICIES = [local_auth_disabled, min_tls, public_network_disabled, private_endpoint, customer_managed_key]
