"""The platform VNet: private-endpoint and Databricks subnets, NSGs, private DNS.

Subnets are separate resources (never inline on the VNet, which would make
Pulumi delete and recreate them) and are created one after another, because
Azure rejects concurrent subnet writes on one VNet.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network, privatedns

from components.base import CommonArgs, DiagnosticsArgs, PlatformComponent

# Private DNS zone per private-link sub-resource the platform uses.
PRIVATE_DNS_ZONES: dict[str, str] = {
    "blob": "privatelink.blob.core.windows.net",
    "dfs": "privatelink.dfs.core.windows.net",
    "vault": "privatelink.vaultcore.azure.net",
    "namespace": "privatelink.servicebus.windows.net",
    "sqlServer": "privatelink.database.windows.net",
    "databricks": "privatelink.azuredatabricks.net",
}

DATABRICKS_DELEGATION = "Microsoft.Databricks/workspaces"


@dataclass(frozen=True)
class SubnetSpec:
    key: str
    cidr: str
    delegate_to_databricks: bool = False


@dataclass(frozen=True)
class NetworkArgs:
    common: CommonArgs
    diagnostics: DiagnosticsArgs
    vnet_name: str
    address_space: str
    subnets: tuple[SubnetSpec, ...]
    dns_zone_keys: tuple[str, ...] = tuple(PRIVATE_DNS_ZONES)


class Network(PlatformComponent):
    """VNet, NSG-protected subnets, NAT egress for Databricks, and linked private DNS zones."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Network", name, args.common, opts)
        c = args.common
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=args.vnet_name,
            resource_group_name=c.resource_group_name,
            location=c.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.address_space]),
            tags=dict(self.tags),
            # Subnets are managed as their own resources below.
            opts=self._opts(ignore_changes=["subnets"]),
        )

        needs_nat = any(s.delegate_to_databricks for s in args.subnets)
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
                delegations=[network.DelegationArgs(name="databricks", service_name=DATABRICKS_DELEGATION)]
                if spec.delegate_to_databricks
                else None,
                nat_gateway=network.SubResourceArgs(id=self.nat_gateway.id)
                if spec.delegate_to_databricks and self.nat_gateway is not None
                else None,
                opts=self._opts(depends_on=[self.vnet, nsg] + ([previous] if previous else [])),
            )
            self.nsgs[spec.key] = nsg
            self.subnets[spec.key] = subnet
            previous = subnet

        self.dns_zones: dict[str, privatedns.PrivateZone] = {}
        for key in args.dns_zone_keys:
            zone_name = PRIVATE_DNS_ZONES[key]
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
        privatedns.VirtualNetworkLink(
            f"{name}-dns-{key}-link",
            virtual_network_link_name=f"link-{key}",
            private_zone_name=zone.name,
            resource_group_name=c.resource_group_name,
            location="Global",
            registration_enabled=False,
            virtual_network=privatedns.SubResourceArgs(id=self.vnet.id),
            tags=dict(self.tags),
            opts=self._opts(depends_on=[zone]),
        )
        return zone

    def subnet_id(self, key: str) -> pulumi.Output[str]:
        return self.subnets[key].id

    def dns_zone_id(self, key: str) -> pulumi.Output[str]:
        return self.dns_zones[key].id
