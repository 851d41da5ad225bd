"""Network topology, egress firewall, flow logs and Defender plans (`network`, `defender` sections).

`network.topology` is `spoke` (the platform VNet alone, NAT egress) or
`hub-spoke` (egress through Azure Firewall in a hub VNet the stack creates, or
an existing hub given by id). Prod defaults to hub-spoke; see docs/network.md.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from stack_config.section import Section

ResourceId = Annotated[str, StringConstraints(pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/.+$")]
# A host name as Azure Firewall application rules take it: labels, optionally one leading "*.".
Fqdn = Annotated[str, StringConstraints(pattern=r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")]
_HTTPS_URI = re.compile(r"^https://[a-z0-9-]+\.vault\.azure\.net/secrets/[A-Za-z0-9-]+(/[0-9a-f]{32})?$")


class Topology(StrEnum):
    SPOKE = "spoke"
    HUB_SPOKE = "hub-spoke"


class FirewallSku(StrEnum):
    STANDARD = "Standard"
    PREMIUM = "Premium"


class IdpsMode(StrEnum):
    """Azure Firewall Premium intrusion detection: Off, Alert (log only) or Deny (alert and block)."""

    OFF = "Off"
    ALERT = "Alert"
    DENY = "Deny"


class TlsInspectionConfig(Section):
    """TLS inspection needs an intermediate CA certificate in Key Vault that the firewall reads
    through a user-assigned identity (Azure Firewall Premium certificates docs); the platform
    cannot mint an enterprise CA, so both are given."""

    key_vault_secret_id: str
    identity_id: ResourceId

    @model_validator(mode="after")
    def _secret_uri(self) -> TlsInspectionConfig:
        if not _HTTPS_URI.match(self.key_vault_secret_id):
            raise ValueError(
                f"keyVaultSecretId {self.key_vault_secret_id!r} is not a Key Vault secret URI "
                "(https://<vault>.vault.azure.net/secrets/<name>[/<version>])"
            )
        return self


class FirewallConfig(Section):
    sku: FirewallSku = FirewallSku.PREMIUM
    idps: IdpsMode = IdpsMode.DENY
    threat_intel_mode: Literal["Alert", "Deny"] = "Deny"
    tls_inspection: TlsInspectionConfig | None = None
    # Package mirrors the clusters may reach over HTTPS (PyPI, Maven, a private Artifactory...).
    package_mirrors: tuple[Fqdn, ...] = ()
    zones: tuple[Literal["1", "2", "3"], ...] = ("1", "2", "3")

    @model_validator(mode="after")
    def _premium_features(self) -> FirewallConfig:
        problems = []
        if self.sku is not FirewallSku.PREMIUM:
            if self.idps is not IdpsMode.OFF:
                problems.append(f"idps {self.idps.value} needs sku Premium")
            if self.tls_inspection is not None:
                problems.append("tlsInspection needs sku Premium")
        if problems:
            raise ValueError("; ".join(problems))
        return self


VnetId = Annotated[
    str,
    StringConstraints(
        pattern=r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+$"
    ),
]


class DeployRunnerConfig(Section):
    """The existing VNet the deploy (and preview) runners sit in: the stack peers it with the platform VNet
    both ways and links it to every private DNS zone, so `pulumi up` reaches the private data planes it
    writes (components/network.py `RunnerNetworkArgs`; docs/first-deploy.md, "Runner network")."""

    vnet_id: VnetId
    # Names the peerings and zone links (`<network>-peer-<key>`, `-back`).
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,39}$")] = "deploy-runner"
    # False when the runner VNet's owner creates the reverse peering (no write on that VNet here).
    peer_back: bool = True


class NetworkHubConfig(Section):
    """Either `addressSpace` (the stack creates the hub) or `vnetId` + `firewallPrivateIp` +
    `firewallPolicyId` (an existing hub; the platform adds its rule collection group to that policy)."""

    address_space: str | None = None
    vnet_id: ResourceId | None = None
    firewall_private_ip: str | None = None
    firewall_policy_id: ResourceId | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> NetworkHubConfig:
        existing = (self.vnet_id, self.firewall_private_ip, self.firewall_policy_id)
        if self.address_space is not None:
            if any(v is not None for v in existing):
                raise ValueError("give either addressSpace (a new hub) or vnetId/firewallPrivateIp/firewallPolicyId")
            net = ipaddress.IPv4Network(self.address_space, strict=True)
            if net.prefixlen > 26:
                raise ValueError(
                    f"addressSpace {self.address_space} is smaller than /26, AzureFirewallSubnet's minimum"
                )
        elif not all(v is not None for v in existing):
            raise ValueError("an existing hub needs vnetId, firewallPrivateIp and firewallPolicyId")
        else:
            ipaddress.IPv4Address(self.firewall_private_ip)
        return self

    @property
    def created(self) -> bool:
        return self.address_space is not None


class FlowLogsConfig(Section):
    enabled: bool = True
    retention_days: int = Field(default=90, ge=1, le=365)
    traffic_analytics_interval_minutes: Literal[10, 60] = 10
    # Azure creates one Network Watcher per region and subscription, in NetworkWatcherRG.
    network_watcher_name: str | None = None
    network_watcher_resource_group: str = "NetworkWatcherRG"


class DefenderPlanName(StrEnum):
    """Defender for Cloud pricing names (Microsoft.Security/pricings) for the services the platform uses."""

    STORAGE = "StorageAccounts"
    KEY_VAULTS = "KeyVaults"
    SQL_SERVERS = "SqlServers"
    ARM = "Arm"
    CONTAINERS = "Containers"
    VIRTUAL_MACHINES = "VirtualMachines"


class DefenderConfig(Section):
    enabled: bool | None = None
    plans: tuple[DefenderPlanName, ...] = (
        DefenderPlanName.STORAGE,
        DefenderPlanName.KEY_VAULTS,
        DefenderPlanName.SQL_SERVERS,
        DefenderPlanName.ARM,
    )
    malware_scanning_cap_gb_per_month: int = Field(default=5000, ge=-1)

    @model_validator(mode="after")
    def _unique(self) -> DefenderConfig:
        if len(set(self.plans)) != len(self.plans):
            raise ValueError(f"plans has duplicates: {[p.value for p in self.plans]}")
        return self


def topology_problems(
    topology: Topology,
    hub: NetworkHubConfig | None,
    spoke_space: str,
    *,
    is_prod: bool,
    location: str,
    regions: set[str],
) -> list[str]:
    """Cross-field rules the network section cannot check alone."""
    problems = []
    if topology is Topology.HUB_SPOKE:
        if hub is None:
            problems.append("network.hub is required when network.topology is 'hub-spoke'")
        elif hub.address_space is not None and ipaddress.IPv4Network(hub.address_space).overlaps(
            ipaddress.IPv4Network(spoke_space)
        ):
            problems.append(f"network.hub.addressSpace {hub.address_space} overlaps network.addressSpace {spoke_space}")
        if location not in regions:
            problems.append(
                f"azure-native:location {location!r} has no egress allow-list, which network.topology "
                f"'hub-spoke' needs: the firewall supports {sorted(regions)} "
                "(stack_config/egress_allowlist.yaml; docs/network.md, 'Adding a region')"
            )
    elif is_prod:
        problems.append("network.topology must be 'hub-spoke' in prod (Databricks egress through Azure Firewall)")
    elif hub is not None:
        problems.append("network.hub is only valid with network.topology 'hub-spoke'")
    return problems
