"""Azure Databricks workspaces: no public IPs, VNet-injected, private front and back end (DB-*).

Custom parameters are wrapped objects on the wire: `parameters.enableNoPublicIp.value`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    Meta,
    Res,
    ZeroTrustResourcePolicy,
    all_of,
    as_bool,
    expect,
    is_set,
    is_unknown,
    lower,
    mcsb,
    must_be_true,
    resource_policy,
    sat,
)
from .private_link import private_endpoint_policy

WORKSPACE = AZ + "databricks:Workspace"
SVC = "databricks-workspace"


def _serverless(r: Res) -> bool:
    return lower(r.get("computeMode")) == "serverless"


@resource_policy(
    Meta(
        name="databricks-no-public-ip",
        control="DB-01",
        service=SVC,
        severity=Severity.CRITICAL,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Databricks workspaces use secure cluster connectivity (parameters.enableNoPublicIp.value not false; "
            "default true)."
        ),
        why="Without it every cluster node gets a public IP and an inbound management path from the Internet.",
        remediation="Remove parameters.enableNoPublicIp or set its value to true.",
        framework=mcsb("NS-2", anchors="Azure Policy 51c1490f; Azure.Databricks.SecureConnectivity; SAT NS-6"),
    ),
    [WORKSPACE],
)
def no_public_ip(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if not _serverless(r) and as_bool(r.get("parameters.enableNoPublicIp.value")) is False:
        yield "parameters.enableNoPublicIp.value is false: cluster nodes get public IPs."


@resource_policy(
    Meta(
        name="databricks-vnet-injection",
        control="DB-02",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Databricks workspaces are injected into the platform VNet (customVirtualNetworkId, "
            "customPublicSubnetName, customPrivateSubnetName)."
        ),
        why="Only a VNet the platform owns carries its NSGs, routes and private endpoints to the data services.",
        remediation=(
            "Set parameters.customVirtualNetworkId.value and both subnet-name parameters to delegated subnets of the "
            "platform VNet."
        ),
        framework=mcsb("NS-2", anchors="Azure Policy 9c25c9e4; SAT NS-4"),
    ),
    [WORKSPACE],
)
def vnet_injection(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    if _serverless(r):
        return
    for key in ("customVirtualNetworkId", "customPublicSubnetName", "customPrivateSubnetName"):
        if not is_set(r.get(f"parameters.{key}.value")):
            yield f"parameters.{key}.value is not set."


public_network_disabled = ZeroTrustResourcePolicy(
    Meta(
        name="databricks-public-network-disabled",
        control="DB-03",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            'Databricks workspaces disable public network access to the front end (publicNetworkAccess "Disabled").'
        ),
        why="The workspace UI and REST API would otherwise be reachable from anywhere with a stolen token.",
        remediation='Set publicNetworkAccess="Disabled" and add a databricks_ui_api private endpoint.',
        framework=mcsb("NS-2", anchors="Azure Policy 0e7849de; CKV_AZURE_158; Azure.Databricks.PublicAccess; SAT NS-3"),
    ),
    [WORKSPACE],
    expect("publicNetworkAccess", ("disabled",), normalise=lower, when_missing="; Azure then enables public access"),
)


_private_control_plane = expect(
    "requiredNsgRules",
    ("NoAzureDatabricksRules",),
    when_missing="; Azure then applies AllRules (public control-plane path)",
)


@resource_policy(
    Meta(
        name="databricks-backend-private-link",
        control="DB-04",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Workspaces with public access disabled route the control plane privately: requiredNsgRules "
            '"NoAzureDatabricksRules".'
        ),
        why="Any other value keeps the NSG rules that send cluster-to-control-plane traffic over public service tags.",
        remediation='Set requiredNsgRules="NoAzureDatabricksRules" (back-end Private Link).',
        framework=None,
    ),
    [WORKSPACE],
)
def backend_private_link(r: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if lower(r.get("publicNetworkAccess")) == "disabled":
        yield from _private_control_plane(r, config)


private_endpoint = private_endpoint_policy(
    Meta(
        name="databricks-private-endpoint",
        control="DB-05",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Every Databricks workspace has a private endpoint for "databricks_ui_api".',
        why="With the front end closed, users and the deploying runner reach the workspace only through this endpoint.",
        remediation=(
            "Add a network:PrivateEndpoint with privateLinkServiceConnections=[{privateLinkServiceId: <workspace id>, "
            'groupIds: ["databricks_ui_api"]}].'
        ),
        framework=mcsb("NS-2", anchors="Azure Policy 258823f2"),
    ),
    WORKSPACE,
    "Databricks workspace",
    ["databricks_ui_api"],
)


premium_sku = ZeroTrustResourcePolicy(
    Meta(
        name="databricks-premium-sku",
        control="DB-08",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description='Databricks workspaces use the "premium" SKU.',
        why="Unity Catalog, Private Link, CMK and access control lists exist only on Premium.",
        remediation='Set sku={"name": "premium"}.',
        framework=mcsb("DP-5", "v2", anchors="Azure Policy 2cc2c3b5; Azure.Databricks.SKU"),
    ),
    [WORKSPACE],
    expect("sku.name", ("premium",), normalise=lower, when_missing=""),
)


customer_managed_keys = ZeroTrustResourcePolicy(
    Meta(
        name="databricks-customer-managed-keys",
        control="DB-06",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description="Databricks workspaces encrypt managed services and managed disks with customer-managed keys.",
        why="Notebooks, query results and cluster disks then stay under a key the platform can revoke.",
        remediation=(
            'Set encryption.entities.managedServices and .managedDisk with keySource "Microsoft.Keyvault" and '
            "keyVaultProperties."
        ),
        framework=sat("DP-2", "CKV2_AZURE_48"),
    ),
    [WORKSPACE],
    all_of(
        *(
            expect(f"encryption.entities.{entity}.keySource", ("microsoft.keyvault",), normalise=lower, unset="not set")
            for entity in ("managedServices", "managedDisk")
        )
    ),
)


infrastructure_encryption = ZeroTrustResourcePolicy(
    Meta(
        name="databricks-infrastructure-encryption",
        control="DB-07",
        service=SVC,
        severity=Severity.LOW,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            "Databricks workspaces double-encrypt the DBFS root "
            "(parameters.requireInfrastructureEncryption.value=true)."
        ),
        why="A second encryption layer for the workspace's own storage; it can only be chosen at creation.",
        remediation="Set parameters.requireInfrastructureEncryption={'value': true} when the workspace is created.",
        framework=None,
    ),
    [WORKSPACE],
    must_be_true("parameters.requireInfrastructureEncryption.value"),
)


@resource_policy(
    Meta(
        name="databricks-default-storage-firewall",
        control="DB-11",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description=(
            'Databricks workspaces close their default (DBFS) storage account: defaultStorageFirewall "Enabled" with '
            "an access connector."
        ),
        why=(
            "The workspace storage account sits outside the platform's own storage policies unless its firewall is "
            "turned on."
        ),
        remediation=(
            'Set defaultStorageFirewall="Enabled" and accessConnector={id, identityType} pointing at a '
            "databricks:AccessConnector."
        ),
        framework=None,
    ),
    [WORKSPACE],
)
def default_storage_firewall(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    value = r.get("defaultStorageFirewall")
    if not is_unknown(value) and lower(value) != "enabled":
        yield f"defaultStorageFirewall is {value or 'not set (Disabled)'}."
    if lower(value) == "enabled" and not is_set(r.get("accessConnector.id")):
        yield "defaultStorageFirewall is Enabled but accessConnector.id is not set."


POLICIES = [
    no_public_ip,
    vnet_injection,
    public_network_disabled,
    backend_private_link,
    private_endpoint,
    premium_sku,
    customer_managed_keys,
    infrastructure_encryption,
    default_storage_firewall,
]
