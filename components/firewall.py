"""The hub: Azure Firewall, its policy and the platform's egress allow-list.

Follows the Databricks security reference architecture (databricks/terraform-databricks-sra,
azure/tf/modules/hub): the spoke's Databricks subnets send 0.0.0.0/0 to the firewall, which
allows exactly the region's Databricks endpoints (stack_config/egress_allowlist.yaml) plus the
configured package mirrors and denies everything else. Azure Firewall denies any traffic no
rule allows, and logs the denial in its AZFWApplicationRule / AZFWNetworkRule tables
(https://learn.microsoft.com/azure/firewall/rule-processing), which the diagnostic setting sends
to Log Analytics.

All rules live in one rule collection group (one resource, not one per rule). FQDNs in network
rules (metastore on 3306, Event Hubs on 9093) need the policy's DNS proxy
(`DnsSettings.requireProxyForNetworkRules`, https://learn.microsoft.com/azure/firewall/fqdn-filtering-network-rules).
Premium adds IDPS and, when a CA certificate is given, TLS inspection: the firewall reads the
intermediate CA from Key Vault with a user-assigned identity
(https://learn.microsoft.com/azure/firewall/premium-certificates).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import network

from components.base import CommonArgs, DiagnosticsArgs, PlatformComponent

FIREWALL_SUBNET = "AzureFirewallSubnet"
RULE_COLLECTION_GROUP = "rta-databricks-egress"


@dataclass(frozen=True)
class EgressRule:
    """One more HTTPS application rule with its own sources (e.g. the API poller's upstream host)."""

    name: str
    source_prefixes: Sequence[str]
    fqdns: Sequence[str]
    # The HTTPS port the hosts answer on: an application rule matches protocol and port (at most 64000,
    # FirewallPolicyRuleApplicationProtocol.port in azure-native network).
    port: int = 443


@dataclass(frozen=True)
class EgressRules:
    """The allow-list the firewall enforces: plain data, from the allow-list file and stack config."""

    source_prefixes: Sequence[str]  # the Databricks subnets
    scc_relay: Sequence[str]
    control_plane_service_tag: str
    artifact_storage: Sequence[str]
    system_tables_storage: Sequence[str]
    log_storage: Sequence[str]
    metastore: Sequence[str]
    event_hubs: Sequence[str]
    # Microsoft Entra ID sign-in (token requests from the clusters to Azure resources).
    entra_id: Sequence[str] = ()
    package_mirrors: Sequence[str] = ()
    # Ingestion endpoints reached over the Internet (Event Hubs or Confluent when not private).
    ingestion_endpoints: Sequence[str] = ()
    # Rules with sources other than the Databricks subnets.
    extra: Sequence[EgressRule] = ()

    def application_rules(self) -> dict[str, Sequence[str]]:
        """HTTPS destinations by rule name (empty lists dropped)."""
        rules = {
            "scc-relay": self.scc_relay,
            "artifact-storage": self.artifact_storage,
            "system-tables-storage": self.system_tables_storage,
            "log-storage": self.log_storage,
            "entra-id": self.entra_id,
            "package-mirrors": self.package_mirrors,
            "ingestion-endpoints": self.ingestion_endpoints,
        }
        return {k: tuple(v) for k, v in rules.items() if v}

    def network_rules(self) -> dict[str, tuple[str, str, Sequence[str]]]:
        """(port, kind, destinations) by rule name; kind is "addresses" (service tags) or "fqdns"."""
        return {
            "control-plane": ("443", "addresses", (self.control_plane_service_tag,)),
            "metastore": ("3306", "fqdns", tuple(self.metastore)),
            "event-hubs": ("9093", "fqdns", tuple(self.event_hubs)),
        }


@dataclass(frozen=True)
class TlsInspectionArgs:
    key_vault_secret_id: str
    identity_id: str


@dataclass(frozen=True)
class NewHubArgs:
    vnet_name: str
    address_space: str
    firewall_name: str
    policy_name: str
    public_ip_name: str
    sku_tier: str = "Premium"
    idps_mode: str = "Deny"
    threat_intel_mode: str = "Deny"
    zones: Sequence[str] = ("1", "2", "3")
    tls_inspection: TlsInspectionArgs | None = None


@dataclass(frozen=True)
class ExistingHubArgs:
    """A hub someone else runs: the platform adds only its rule collection group to that hub's policy."""

    vnet_id: str
    firewall_private_ip: str
    firewall_policy_id: str


@dataclass(frozen=True)
class HubFirewallArgs:
    common: CommonArgs
    diagnostics: DiagnosticsArgs
    rules: EgressRules
    hub: NewHubArgs | ExistingHubArgs
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


def parse_resource_id(resource_id: str) -> dict[str, str]:
    """`/subscriptions/<s>/resourceGroups/<rg>/providers/<ns>/<type>/<name>` as its parts."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    try:
        return {
            "subscription": parts[lowered.index("subscriptions") + 1],
            "resource_group": parts[lowered.index("resourcegroups") + 1],
            "name": parts[-1],
        }
    except (ValueError, IndexError):
        raise ValueError(f"{resource_id!r} is not an Azure resource id") from None


def firewall_subnet_prefix(hub_space: str) -> str:
    """AzureFirewallSubnet takes the hub's first /26 (Azure's minimum size for it)."""
    return str(next(ipaddress.IPv4Network(hub_space).subnets(new_prefix=26)))


class HubFirewall(PlatformComponent):
    """Hub VNet, Azure Firewall with its policy and diagnostics, and the platform's rule collection group."""

    def __init__(self, name: str, args: HubFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("HubFirewall", name, args.common, opts)
        c = args.common
        hub = args.hub
        self.firewall: network.AzureFirewall | None = None
        self.hub_vnet: network.VirtualNetwork | None = None
        if isinstance(hub, ExistingHubArgs):
            policy = parse_resource_id(hub.firewall_policy_id)
            vnet = parse_resource_id(hub.vnet_id)
            policy_name: pulumi.Input[str] = policy["name"]
            policy_group: pulumi.Input[str] = policy["resource_group"]
            self.private_ip: pulumi.Output[str] = pulumi.Output.from_input(hub.firewall_private_ip)
            self.hub_vnet_id: pulumi.Output[str] = pulumi.Output.from_input(hub.vnet_id)
            self.hub_vnet_name: pulumi.Output[str] = pulumi.Output.from_input(vnet["name"])
            self.hub_resource_group: pulumi.Output[str] = pulumi.Output.from_input(vnet["resource_group"])
            rcg_deps: list[pulumi.Resource] = list(args.depends_on)
        else:
            fw_policy = self._policy(name, hub)
            policy_name, policy_group = fw_policy.name, c.resource_group_name
            rcg_deps = [fw_policy, *args.depends_on]
        rule_group = network.FirewallPolicyRuleCollectionGroup(
            f"{name}-rules",
            rule_collection_group_name=RULE_COLLECTION_GROUP,
            firewall_policy_name=policy_name,
            resource_group_name=policy_group,
            priority=200,
            rule_collections=_rule_collections(args.rules),
            opts=self._opts(depends_on=rcg_deps),
        )
        self.rule_collection_group = rule_group
        if isinstance(hub, NewHubArgs):
            self._hub(name, hub, fw_policy, rule_group, args.diagnostics)
        self.register_outputs(
            {
                "firewall_private_ip": self.private_ip,
                "hub_vnet_id": self.hub_vnet_id,
                "rule_collection_group_id": rule_group.id,
            }
        )

    def _policy(self, name: str, hub: NewHubArgs) -> network.FirewallPolicy:
        c = self._common
        premium = hub.sku_tier == network.FirewallPolicySkuTier.PREMIUM.value
        tls = hub.tls_inspection
        return network.FirewallPolicy(
            f"{name}-policy",
            firewall_policy_name=hub.policy_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            sku=network.FirewallPolicySkuArgs(tier=network.FirewallPolicySkuTier(hub.sku_tier)),
            threat_intel_mode=network.AzureFirewallThreatIntelMode(hub.threat_intel_mode),
            dns_settings=network.DnsSettingsArgs(enable_proxy=True, require_proxy_for_network_rules=True),
            intrusion_detection=network.FirewallPolicyIntrusionDetectionArgs(
                mode=network.FirewallPolicyIntrusionDetectionStateType(hub.idps_mode)
            )
            if premium
            else None,
            transport_security=network.FirewallPolicyTransportSecurityArgs(
                certificate_authority=network.FirewallPolicyCertificateAuthorityArgs(
                    key_vault_secret_id=tls.key_vault_secret_id, name="tls-inspection-ca"
                )
            )
            if tls is not None
            else None,
            identity=network.ManagedServiceIdentityArgs(
                type=network.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[tls.identity_id]
            )
            if tls is not None
            else None,
            tags=dict(self.tags),
            opts=self._opts(),
        )

    def _hub(
        self,
        name: str,
        hub: NewHubArgs,
        policy: network.FirewallPolicy,
        rule_group: network.FirewallPolicyRuleCollectionGroup,
        diagnostics: DiagnosticsArgs,
    ) -> None:
        c = self._common
        self.hub_vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=hub.vnet_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[hub.address_space]),
            tags=dict(self.tags),
            opts=self._opts(ignore_changes=["subnets"]),
        )
        # Azure manages the firewall subnet's NSG rules itself (no NSG is allowed on it).
        subnet = network.Subnet(
            f"{name}-snet-firewall",
            subnet_name=FIREWALL_SUBNET,
            virtual_network_name=self.hub_vnet.name,
            resource_group_name=c.resource_group_name,
            address_prefix=firewall_subnet_prefix(hub.address_space),
            opts=self._opts(depends_on=[self.hub_vnet]),
        )
        public_ip = network.PublicIPAddress(
            f"{name}-pip",
            public_ip_address_name=hub.public_ip_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            sku=network.PublicIPAddressSkuArgs(name=network.PublicIPAddressSkuName.STANDARD),
            public_ip_allocation_method=network.IPAllocationMethod.STATIC,
            zones=list(hub.zones),
            tags=dict(self.tags),
            opts=self._opts(),
        )
        self.firewall = network.AzureFirewall(
            f"{name}-firewall",
            azure_firewall_name=hub.firewall_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            sku=network.AzureFirewallSkuArgs(
                name=network.AzureFirewallSkuName.AZF_W_V_NET, tier=network.AzureFirewallSkuTier(hub.sku_tier)
            ),
            firewall_policy=network.SubResourceArgs(id=policy.id),
            ip_configurations=[
                network.AzureFirewallIPConfigurationArgs(
                    name="egress",
                    subnet=network.SubResourceArgs(id=subnet.id),
                    public_ip_address=network.SubResourceArgs(id=public_ip.id),
                )
            ],
            zones=list(hub.zones),
            tags=dict(self.tags),
            # The rule collection group must exist before the firewall applies the policy.
            opts=self._opts(depends_on=[subnet, public_ip, policy, rule_group]),
        )
        self.add_diagnostics(name, self.firewall, self.firewall.id, diagnostics)
        self.private_ip = self.firewall.ip_configurations.apply(
            lambda configs: str(configs[0].private_ip_address) if configs else ""
        )
        self.hub_vnet_id = self.hub_vnet.id
        self.hub_vnet_name = self.hub_vnet.name
        self.hub_resource_group = pulumi.Output.from_input(c.resource_group_name)


def _rule_collections(rules: EgressRules) -> list[network.FirewallPolicyFilterRuleCollectionArgs]:
    allow = network.FirewallPolicyFilterRuleCollectionActionArgs(
        type=network.FirewallPolicyFilterRuleCollectionActionType.ALLOW
    )
    sources = list(rules.source_prefixes)
    network_rules = []
    for rule_name, (port, kind, destinations) in rules.network_rules().items():
        network_rules.append(
            network.NetworkRuleArgs(
                rule_type="NetworkRule",
                name=rule_name,
                ip_protocols=[network.FirewallPolicyRuleNetworkProtocol.TCP],
                source_addresses=sources,
                destination_ports=[port],
                destination_addresses=list(destinations) if kind == "addresses" else None,
                destination_fqdns=list(destinations) if kind == "fqdns" else None,
            )
        )
    https = network.FirewallPolicyRuleApplicationProtocolArgs(
        protocol_type=network.FirewallPolicyRuleApplicationProtocolType.HTTPS, port=443
    )
    application_rules = [
        network.ApplicationRuleArgs(
            rule_type="ApplicationRule",
            name=rule_name,
            source_addresses=sources,
            protocols=[https],
            target_fqdns=list(fqdns),
        )
        for rule_name, fqdns in rules.application_rules().items()
    ] + [
        network.ApplicationRuleArgs(
            rule_type="ApplicationRule",
            name=rule.name,
            source_addresses=list(rule.source_prefixes),
            protocols=[
                network.FirewallPolicyRuleApplicationProtocolArgs(
                    protocol_type=network.FirewallPolicyRuleApplicationProtocolType.HTTPS, port=rule.port
                )
            ],
            target_fqdns=list(rule.fqdns),
        )
        for rule in rules.extra
    ]
    return [
        network.FirewallPolicyFilterRuleCollectionArgs(
            rule_collection_type="FirewallPolicyFilterRuleCollection",
            name="databricks-network",
            priority=100,
            action=allow,
            rules=network_rules,
        ),
        network.FirewallPolicyFilterRuleCollectionArgs(
            rule_collection_type="FirewallPolicyFilterRuleCollection",
            name="databricks-application",
            priority=200,
            action=allow,
            rules=application_rules,
        ),
    ]
