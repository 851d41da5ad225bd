"""Event Hubs: Entra-only, TLS 1.2, private (catalogue rows EH-*)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    Framework,
    Meta,
    Res,
    ZeroTrustResourcePolicy,
    as_bool,
    expect,
    expect_flag,
    is_unknown,
    lower,
    mcsb,
    resource_policy,
    set_top_level,
)
from .private_link import private_endpoint_policy

NAMESPACE = AZ + "eventhub:Namespace"
RULE_SET = AZ + "eventhub:NamespaceNetworkRuleSet"
SVC = "eventhub"


local_auth_disabled = ZeroTrustResourcePolicy(
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
    expect_flag(
        "disableLocalAuth",
        True,
        when_missing="; Azure then accepts SAS keys",
        hint=": SAS keys authorize producers and consumers",
    ),
)


min_tls = ZeroTrustResourcePolicy(
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
    expect("minimumTlsVersion", ("1.2", "1.3"), normalise=str, when_missing="", hint="; 1.2 is the minimum"),
    fix=set_top_level("minimumTlsVersion", "1.2", unless=lambda v: v in ("1.2", "1.3")),
)


_namespace_public_access = expect(
    "publicNetworkAccess", ("disabled",), normalise=lower, when_missing="; Azure then enables public access"
)


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
def public_network_disabled(r: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if r.type != RULE_SET:
        yield from _namespace_public_access(r, config)
        return
    value, action = r.get("publicNetworkAccess"), r.get("defaultAction")
    if is_unknown(value) or is_unknown(action):
        return
    if lower(value or "Enabled") != "disabled" and lower(action or "Allow") != "deny":
        yield f"the rule set leaves public access {value or 'Enabled'} with defaultAction {action or 'Allow'}."


private_endpoint = private_endpoint_policy(
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
    ),
    NAMESPACE,
    "Event Hubs namespace",
    ["namespace"],
)


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
