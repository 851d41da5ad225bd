"""The platform VNet: private-endpoint and Databricks subnets, NSGs, egress, private DNS.

Subnets are separate resources (never inline on the VNet, which would make
Pulumi delete and recreate them) and are created one after another, because
Azure rejects concurrent subnet writes on one VNet.

Egress depends on the topology (docs/network.md). As a lone spoke, the Databricks
subnets leave through a NAT gateway. In hub-spoke, every subnet gets a route table
whose only route sends 0.0.0.0/0 to the hub's Azure Firewall (next hop type
VirtualAppliance; Microsoft Learn, "User-defined route settings for Azure Databricks"),
the VNet resolves names through the firewall's DNS proxy (which FQDN network rules
need), and the VNet is peered with the hub both ways. Peering settings
(https://learn.microsoft.com/azure/virtual-network/virtual-network-peering-overview):
no gateway transit either way; the spoke accepts traffic the hub forwards (users on
a network behind the hub reach the private endpoints through the firewall), the hub
accepts only traffic that originates in the spoke.

Every private DNS zone is linked to this VNet and to each VNet in `linked_vnets`
(the hub, whose firewall resolves for the spoke; a deploy runner's VNet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import network, privatedns

from components.base import CommonArgs, DiagnosticsArgs, PlatformComponent
from components.private_monitoring import MONITOR_DNS_ZONES

# Private DNS zone per private-link sub-resource the platform uses.
PRIVATE_DNS_ZONES: dict[str, str] = {
    "blob": "privatelink.blob.core.windows.net",
    "dfs": "privatelink.dfs.core.windows.net",
    "vault": "privatelink.vaultcore.azure.net",
    "namespace": "privatelink.servicebus.windows.net",
    "sqlServer": "privatelink.database.windows.net",
    "databricks": "privatelink.azuredatabricks.net",
    # Azure Monitor private link scope (components/private_monitoring.py).
    **MONITOR_DNS_ZONES,
}

DATABRICKS_DELEGATION = "Microsoft.Databricks/workspaces"


@dataclass(frozen=True)
class SubnetSpec:
    key: str
    cidr: str
    # The service the subnet is delegated to (DATABRICKS_DELEGATION, "Microsoft.App/environments" for Functions).
    delegation: str | None = None

    @property
    def needs_egress(self) -> bool:
        """Compute injected into the subnet calls out (Databricks clusters, a Function App)."""
        return self.delegation is not None


@dataclass(frozen=True)
class RunnerNetworkArgs:
    """An existing VNet a deploy (or preview) runner sits in, given line of sight to the private data planes.

    `pulumi up` makes data-plane calls (Databricks workspace objects, Unity Catalog) that only answer on
    private endpoints, whose names resolve only through the `privatelink.*` zones. So the runner's VNet is
    peered with the platform VNet both ways (a peering carries traffic only once both directions exist:
    learn.microsoft.com/azure/virtual-network/virtual-network-peering-overview) and linked to every private
    DNS zone (learn.microsoft.com/azure/dns/private-dns-virtual-network-links), including zones added later.
    """

    vnet_id: str  # /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<name>
    key: str = "deploy-runner"  # names the peerings and links
    # Create the runner side's peering too (needs write on the runner VNet, same subscription). False when
    # the runner VNet's owner (e.g. a hub team) creates the reverse peering.
    peer_back: bool = True

    @property
    def resource_group_name(self) -> str:
        return _id_part(self.vnet_id, "resourceGroups")

    @property
    def vnet_name(self) -> str:
        return _id_part(self.vnet_id, "virtualNetworks")


def _delegation_name(service: str) -> str:
    """ "databricks" for Microsoft.Databricks/workspaces (the name deployed stacks carry), else the type."""
    return "databricks" if service == DATABRICKS_DELEGATION else service.split("/")[-1].lower()


def _id_part(resource_id: str, segment: str) -> str:
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    try:
        return parts[lowered.index(segment.lower()) + 1]
    except (ValueError, IndexError):
        raise ValueError(f"{resource_id!r} is not a virtual network resource id (no {segment} segment)") from None


@dataclass(frozen=True)
class PeerVnetArgs:
    """A VNet this one is peered with (both directions are created)."""

    key: str
    vnet_id: pulumi.Input[str]
    vnet_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    # The remote side accepts traffic this VNet forwards (not needed for egress to a hub).
    remote_allows_forwarded: bool = False


@dataclass(frozen=True)
class FirewallEgressArgs:
    """Hub-spoke egress: 0.0.0.0/0 to the firewall, DNS through its proxy, peered with the hub."""

    firewall_private_ip: pulumi.Input[str]
    hub: PeerVnetArgs
    route_table_name: str
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


@dataclass(frozen=True)
class NetworkArgs:
    common: CommonArgs
    diagnostics: DiagnosticsArgs
    vnet_name: str
    address_space: str
    subnets: tuple[SubnetSpec, ...]
    # The service zones; add MONITOR_DNS_ZONES' keys when the stack has an Azure Monitor private link scope.
    dns_zone_keys: tuple[str, ...] = tuple(k for k in PRIVATE_DNS_ZONES if k not in MONITOR_DNS_ZONES)
    # Zones only some stacks need, by key (zone names that depend on config or region, e.g. Kusto's
    # privatelink.<region>.kusto.windows.net, or the Function App's privatelink.azurewebsites.net).
    extra_dns_zones: Mapping[str, str] = field(default_factory=dict)
    # None: a lone spoke with NAT egress for the Databricks subnets.
    firewall_egress: FirewallEgressArgs | None = None
    # Runner VNets that must reach the private endpoints (peered both ways, linked to every zone).
    runner_networks: tuple[RunnerNetworkArgs, ...] = ()


class Network(PlatformComponent):
    """VNet, NSG-protected subnets, NAT egress for Databricks, and linked private DNS zones."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Network", name, args.common, opts)
        c = args.common
        self._runner_networks = args.runner_networks
        # The runner VNets given line of sight here (the stack exports them; offline/access_paths.py resolves
        # the deploy runner's flow to each private data plane from them).
        self.runner_vnet_ids: list[str] = [r.vnet_id for r in args.runner_networks]
        self._zone_links: dict[str, list[pulumi.Resource]] = {}
        keys = [r.key for r in args.runner_networks]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{name}: runner networks need distinct keys, got {keys}")
        self._vnet_name = args.vnet_name
        egress = args.firewall_egress
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=args.vnet_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.address_space]),
            # Resolve through the firewall's DNS proxy, so FQDN rules see the addresses the clients use.
            dhcp_options=network.DhcpOptionsArgs(dns_servers=[egress.firewall_private_ip]) if egress else None,
            tags=dict(self.tags),
            # Subnets are managed as their own resources below.
            opts=self._opts(ignore_changes=["subnets"], depends_on=list(egress.depends_on) if egress else []),
        )
        # VNets other than this one that every zone is linked to (the hub resolves for the spoke).
        self._hub_link: tuple[str, pulumi.Input[str]] | None = None
        self.route_table: network.RouteTable | None = None
        self.hub_peerings: list[network.VirtualNetworkPeering] = []
        if egress is not None:
            self._hub_link = (egress.hub.key, egress.hub.vnet_id)
            self.route_table = network.RouteTable(
                f"{name}-rt",
                route_table_name=egress.route_table_name,
                resource_group_name=c.resource_group_name,
                location=c.location,
                # Routes learnt over BGP (a hub gateway) must not override the default route.
                disable_bgp_route_propagation=True,
                routes=[
                    network.RouteArgs(
                        name="default-to-firewall",
                        address_prefix="0.0.0.0/0",
                        next_hop_type=network.RouteNextHopType.VIRTUAL_APPLIANCE,
                        next_hop_ip_address=egress.firewall_private_ip,
                    )
                ],
                tags=dict(self.tags),
                opts=self._opts(depends_on=egress.depends_on),
            )
            self.hub_peerings = self.peer_hub(name, egress.hub)

        needs_nat = egress is None and any(s.needs_egress for s in args.subnets)
        self.nat_gateway: network.NatGateway | None = None
        if needs_nat:
            # Secure cluster connectivity has no public IPs on nodes; egress goes through one NAT IP.
            nat_ip = network.PublicIPAddress(
                f"{name}-nat-ip",
                public_ip_address_name=f"pip-{args.vnet_name}-nat",
                resource_group_name=c.resource_group_name,
                location=c.location,
                sku=network.PublicIPAddressSkuArgs(name=network.PublicIPAddressSkuName.STANDARD),
                public_ip_allocation_method=network.IPAllocationMethod.STATIC,
                tags=dict(self.tags),
                opts=self._opts(),
            )
            self.nat_gateway = network.NatGateway(
                f"{name}-nat",
                nat_gateway_name=f"ng-{args.vnet_name}",
                resource_group_name=c.resource_group_name,
                location=c.location,
                sku=network.NatGatewaySkuArgs(name=network.NatGatewaySkuName.STANDARD),
                public_ip_addresses=[network.SubResourceArgs(id=nat_ip.id)],
                tags=dict(self.tags),
                opts=self._opts(),
            )

        self.nsgs: dict[str, network.NetworkSecurityGroup] = {}
        self.subnets: dict[str, network.Subnet] = {}
        previous: pulumi.Resource | None = None
        for spec in args.subnets:
            # Rules are standalone SecurityRule resources, never inline: Databricks adds its own
            # rules to the delegated subnets' NSGs, which an inline list would fight on every up.
            nsg = network.NetworkSecurityGroup(
                f"{name}-nsg-{spec.key}",
                network_security_group_name=f"nsg-{args.vnet_name}-{spec.key}",
                resource_group_name=c.resource_group_name,
                location=c.location,
                tags=dict(self.tags),
                opts=self._opts(ignore_changes=["securityRules"]),
            )
            network.SecurityRule(
                f"{name}-nsg-{spec.key}-deny-internet",
                security_rule_name="deny-internet-inbound",
                network_security_group_name=nsg.name,
                resource_group_name=c.resource_group_name,
                # Explicit and last-but-one: no later allow can open the subnet to the Internet by accident.
                priority=4000,
                direction=network.SecurityRuleDirection.INBOUND,
                access=network.SecurityRuleAccess.DENY,
                protocol=network.SecurityRuleProtocol.ASTERISK,
                source_address_prefix="Internet",
                source_port_range="*",
                destination_address_prefix="*",
                destination_port_range="*",
                description="Zero trust: nothing from the Internet reaches this subnet.",
                opts=self._opts(depends_on=[nsg]),
            )
            self.add_diagnostics(f"{name}-nsg-{spec.key}", nsg, nsg.id, args.diagnostics, metrics=False)
            subnet = network.Subnet(
                f"{name}-snet-{spec.key}",
                subnet_name=f"snet-{spec.key}",
                virtual_network_name=self.vnet.name,
                resource_group_name=c.resource_group_name,
                address_prefix=spec.cidr,
                network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
                default_outbound_access=False,
                private_endpoint_network_policies=network.VirtualNetworkPrivateEndpointNetworkPolicies.ENABLED,
                delegations=[
                    network.DelegationArgs(name=_delegation_name(spec.delegation), service_name=spec.delegation)
                ]
                if spec.delegation
                else None,
                nat_gateway=network.SubResourceArgs(id=self.nat_gateway.id)
                if spec.needs_egress and self.nat_gateway is not None
                else None,
                route_table=network.RouteTableArgs(id=self.route_table.id) if self.route_table is not None else None,
                opts=self._opts(depends_on=[self.vnet, nsg] + ([previous] if previous else [])),
            )
            self.nsgs[spec.key] = nsg
            self.subnets[spec.key] = subnet
            previous = subnet

        # What a data-plane call from a runner needs before it can succeed: peerings and the runner's zone links.
        self.runner_paths: list[pulumi.Resource] = []
        self.peerings: list[network.VirtualNetworkPeering] = []
        for runner in args.runner_networks:
            self.peerings += self._peer(name, runner)
        self.runner_paths += self.peerings

        self.dns_zones: dict[str, privatedns.PrivateZone] = {}
        for key in args.dns_zone_keys:
            zone_name = PRIVATE_DNS_ZONES[key]
            self.dns_zones[key] = self.add_private_dns_zone(name, key, zone_name)
        for key, zone_name in args.extra_dns_zones.items():
            if key in self.dns_zones:
                raise ValueError(f"{name}: extra DNS zone {key!r} is already one of the service zones")
            self.dns_zones[key] = self.add_private_dns_zone(name, key, zone_name)

        self.vnet_id: pulumi.Output[str] = self.vnet.id
        self.register_outputs(
            {
                "vnet_id": self.vnet_id,
                "subnet_ids": {k: s.id for k, s in self.subnets.items()},
                "dns_zone_ids": {k: z.id for k, z in self.dns_zones.items()},
            }
        )

    def add_private_dns_zone(self, name: str, key: str, zone_name: pulumi.Input[str]) -> privatedns.PrivateZone:
        """A private DNS zone linked to the VNet (no auto-registration). Public so ingestion
        options with their own private-link domains (Confluent) can add theirs."""
        c = self._common
        zone = privatedns.PrivateZone(
            f"{name}-dns-{key}",
            private_zone_name=zone_name,
            resource_group_name=c.resource_group_name,
            location="Global",
            tags=dict(self.tags),
            opts=self._opts(),
        )
        links: list[pulumi.Resource] = []
        self._zone_links[key] = links
        links.append(self._zone_link(f"{name}-dns-{key}-link", f"link-{key}", zone, self.vnet.id))
        for runner in self._runner_networks:
            # The runner resolves the service names to the private endpoints' addresses.
            link = self._zone_link(
                f"{name}-dns-{key}-link-{runner.key}", f"link-{key}-{runner.key}", zone, runner.vnet_id
            )
            self.runner_paths.append(link)
            links.append(link)
        if self._hub_link is not None:
            hub_key, hub_id = self._hub_link
            links.append(self._zone_link(f"{name}-dns-{key}-link-{hub_key}", f"link-{key}-{hub_key}", zone, hub_id))
        return zone

    def _zone_link(
        self, logical_name: str, link_name: str, zone: privatedns.PrivateZone, vnet_id: pulumi.Input[str]
    ) -> privatedns.VirtualNetworkLink:
        """The zone linked to one VNet for resolution only (no auto-registration)."""
        return privatedns.VirtualNetworkLink(
            logical_name,
            virtual_network_link_name=link_name,
            private_zone_name=zone.name,
            resource_group_name=self._common.resource_group_name,
            location="Global",
            registration_enabled=False,
            virtual_network=privatedns.SubResourceArgs(id=vnet_id),
            tags=dict(self.tags),
            opts=self._opts(depends_on=[zone]),
        )

    def dns_zone_links(self, key: str) -> list[pulumi.Resource]:
        """Every VNet link of the zone added under `key` (platform VNet, runners, hub): a client in any
        of those VNets resolves the zone only once its link exists, so data-plane calls wait for all."""
        if key not in self._zone_links:
            raise KeyError(f"no private DNS zone {key!r} on this network; known: {sorted(self._zone_links)}")
        return list(self._zone_links[key])

    def peer_hub(self, name: str, hub: PeerVnetArgs) -> list[network.VirtualNetworkPeering]:
        """Spoke <-> hub, both directions, no gateway transit; the spoke accepts what the hub forwards."""
        outbound = self._peering(
            f"{name}-peer-to-{hub.key}",
            f"to-{hub.key}",
            (self.vnet.name, self._common.resource_group_name),
            hub.vnet_id,
            forwarded=True,
            depends_on=[self.vnet],
        )
        inbound = self._peering(
            f"{name}-peer-from-{hub.key}",
            f"to-{self._vnet_name}",
            (hub.vnet_name, hub.resource_group_name),
            self.vnet.id,
            forwarded=hub.remote_allows_forwarded,
            depends_on=[self.vnet, outbound],
        )
        return [outbound, inbound]

    def _peer(self, name: str, runner: RunnerNetworkArgs) -> list[network.VirtualNetworkPeering]:
        """Platform VNet <-> runner VNet; traffic only, no gateway transit, nothing forwarded."""
        to_runner = self._peering(
            f"{name}-peer-{runner.key}",
            f"peer-to-{runner.key}",
            (self.vnet.name, self._common.resource_group_name),
            runner.vnet_id,
            forwarded=False,
            depends_on=[self.vnet, *self.subnets.values()],
        )
        if not runner.peer_back:
            return [to_runner]
        from_runner = self._peering(
            f"{name}-peer-{runner.key}-back",
            f"peer-to-{self._vnet_name}",
            (runner.vnet_name, runner.resource_group_name),
            self.vnet.id,
            forwarded=False,
            depends_on=[to_runner],
        )
        return [to_runner, from_runner]

    def _peering(
        self,
        logical_name: str,
        peering_name: str,
        local: tuple[pulumi.Input[str], pulumi.Input[str]],
        remote_vnet_id: pulumi.Input[str],
        *,
        forwarded: pulumi.Input[bool],
        depends_on: Sequence[pulumi.Resource],
    ) -> network.VirtualNetworkPeering:
        """One direction of a peering from `local` (VNet name, resource group): VNet traffic allowed,
        forwarded traffic as given, no gateway transit either way."""
        vnet_name, resource_group_name = local
        return network.VirtualNetworkPeering(
            logical_name,
            virtual_network_peering_name=peering_name,
            virtual_network_name=vnet_name,
            resource_group_name=resource_group_name,
            remote_virtual_network=network.SubResourceArgs(id=remote_vnet_id),
            allow_virtual_network_access=True,
            allow_forwarded_traffic=forwarded,
            allow_gateway_transit=False,
            use_remote_gateways=False,
            opts=self._opts(depends_on=depends_on),
        )

    def subnet_id(self, key: str) -> pulumi.Output[str]:
        return self.subnets[key].id

    def dns_zone_id(self, key: str) -> pulumi.Output[str]:
        return self.dns_zones[key].id
