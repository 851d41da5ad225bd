"""Network: no Internet ingress, every subnet behind an NSG, private DNS for every endpoint (NW-*).

NSG rules are judged the same whether they are written inline in
`NetworkSecurityGroup.securityRules` or as standalone `network:SecurityRule`
resources, and for every spelling Azure accepts for "the Internet" and for a
port set (single port, range, list, `*`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from ._core import (
    AZ,
    UNKNOWN,
    Framework,
    Graph,
    Meta,
    Res,
    ZeroTrustResourcePolicy,
    as_bool,
    as_list,
    dig,
    expect_flag,
    is_set,
    is_unknown,
    lower,
    mcsb,
    resource_policy,
    stack_policy,
)
from .private_link import DNS_ZONE_GROUP, PRIVATE_ENDPOINT

NSG = AZ + "network:NetworkSecurityGroup"
RULE = AZ + "network:SecurityRule"
SUBNET = AZ + "network:Subnet"
VNET = AZ + "network:VirtualNetwork"
NIC = AZ + "network:NetworkInterface"
VNET_LINK = AZ + "privatedns:VirtualNetworkLink"
RECORD_SET = AZ + "privatedns:PrivateRecordSet"
SVC = "network"

# Every way a rule can say "any source on the Internet".
_INTERNET = {"*", "any", "internet", "0.0.0.0", "0.0.0.0/0", "::", "::/0", "0::0/0"}
# Subnets Azure forbids or manages NSGs on.
_NSG_EXEMPT = {"gatewaysubnet", "azurefirewallsubnet", "azurefirewallmanagementsubnet", "routeserversubnet"}
ALL_PORTS = (0, 65535)


def is_internet(prefix: Any) -> bool:
    if not isinstance(prefix, str):
        return False
    p = prefix.strip().lower()
    return p in _INTERNET or p.endswith("/0")


@dataclass(frozen=True)
class Rule:
    """One NSG rule, normalised from either wire shape."""

    label: str
    access: Any
    direction: Any
    protocol: Any
    sources: list[Any]
    destinations: list[Any]
    ports: list[Any]

    @classmethod
    def from_props(cls, label: str, p: Mapping[str, Any]) -> Rule:
        def both(single: str) -> list[Any]:
            return as_list(dig(p, single)) + as_list(
                dig(p, single + "es" if single.endswith("Prefix") else single + "s")
            )

        return cls(
            label=label,
            access=lower(dig(p, "access")),
            direction=lower(dig(p, "direction")),
            protocol=lower(dig(p, "protocol", "*")),
            sources=both("sourceAddressPrefix"),
            destinations=both("destinationAddressPrefix"),
            ports=both("destinationPortRange"),
        )

    def allows(self, direction: str) -> bool:
        return self.access == "allow" and self.direction == direction

    def port_ranges(self) -> list[tuple[int, int]] | None:
        """Covered destination ports; None when any part is unknown until apply."""
        if not self.ports:
            return [ALL_PORTS]  # a rule without a port restriction covers every port
        ranges: list[tuple[int, int]] = []
        for spec in self.ports:
            if spec is UNKNOWN:
                return None
            for part in str(spec).split(","):
                part = part.strip().lower()
                if part in ("*", "any", ""):
                    ranges.append(ALL_PORTS)
                elif "-" in part:
                    lo, _, hi = part.partition("-")
                    if lo.strip().isdigit() and hi.strip().isdigit():
                        ranges.append((int(lo), int(hi)))
                elif part.isdigit():
                    ranges.append((int(part), int(part)))
        return ranges


def covers(ranges: list[tuple[int, int]], port: int) -> bool:
    return any(lo <= port <= hi for lo, hi in ranges)


def subtract(ranges: list[tuple[int, int]], ports: set[int]) -> list[tuple[int, int]]:
    """The ranges with the given single ports cut out."""
    result = list(ranges)
    for port in sorted(ports):
        next_result = []
        for lo, hi in result:
            if lo <= port <= hi:
                if lo < port:
                    next_result.append((lo, port - 1))
                if port < hi:
                    next_result.append((port + 1, hi))
            else:
                next_result.append((lo, hi))
        result = next_result
    return result


def rules_of(r: Res) -> list[Rule]:
    if r.type == RULE:
        return [Rule.from_props(f"rule {r.get('securityRuleName') or r.get('name') or r.name!r}", r.props)]
    rules = []
    for key in ("securityRules", "defaultSecurityRules"):
        for i, entry in enumerate(as_list(r.get(key))):
            if isinstance(entry, Mapping):
                name = dig(entry, "name")
                label = f"{key}[{i}]" + (f" {name!r}" if isinstance(name, str) else "")
                rules.append(Rule.from_props(label, entry))
    return rules


def _internet_inbound(rule: Rule) -> bool:
    return rule.allows("inbound") and any(is_internet(s) for s in rule.sources)


def _fmt(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(str(lo) if lo == hi else ("*" if (lo, hi) == ALL_PORTS else f"{lo}-{hi}") for lo, hi in ranges)


def _mgmt_port_policy(
    name: str, control: str, port: int, protocols: set[str], label: str, why: str, framework: Any
) -> Any:
    @resource_policy(
        Meta(
            name=name,
            control=control,
            service=SVC,
            severity=Severity.CRITICAL,
            enforcement=EnforcementLevel.MANDATORY,
            description=f"No NSG rule (inline or standalone) allows {label} ({port}) inbound from the Internet.",
            why=why,
            remediation=(
                f"Remove the rule or restrict its source to a private range; reach hosts through Azure Bastion or the "
                f"VPN, not port {port}."
            ),
            framework=framework,
        ),
        [NSG, RULE],
    )
    def check(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
        for rule in rules_of(r):
            if not _internet_inbound(rule) or rule.protocol not in protocols:
                continue
            ranges = rule.port_ranges()
            if ranges is not None and covers(ranges, port):
                yield f"{rule.label} allows {label} ({port}) from {sorted(s for s in rule.sources if is_internet(s))}."

    return check


no_internet_ssh = _mgmt_port_policy(
    "nsg-no-internet-ssh",
    "NW-01",
    22,
    {"tcp", "*"},
    "SSH",
    "SSH open to the Internet is the most scanned and brute-forced entry point there is.",
    mcsb("NS-3", anchors="Azure Policy 22730e10; CKV_AZURE_10; Trivy AZU-0050"),
)
no_internet_rdp = _mgmt_port_policy(
    "nsg-no-internet-rdp",
    "NW-02",
    3389,
    {"tcp", "udp", "*"},
    "RDP",
    "RDP open to the Internet is a standard ransomware entry point.",
    mcsb("NS-3", anchors="Azure Policy 22730e10; CKV_AZURE_9; Trivy AZU-0048"),
)


def _mgmt_ports(protocol: Any) -> set[int]:
    """Ports the SSH/RDP policies already report for this protocol, so each finding is reported once."""
    ports = set()
    if protocol in ("tcp", "*"):
        ports.add(22)
    if protocol in ("tcp", "udp", "*"):
        ports.add(3389)
    return ports


@resource_policy(
    Meta(
        name="nsg-no-internet-ingress",
        control="NW-03",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "No NSG rule allows any other port or protocol inbound from the Internet (SSH and RDP have their own "
            "policies)."
        ),
        why=(
            "The platform is private end to end; every inbound path comes through private endpoints or Private Link, "
            "never the Internet."
        ),
        remediation=(
            "Remove the rule or restrict its source to a private range or service tag; list deliberate exceptions in "
            "allowedPorts."
        ),
        framework=mcsb("NS-1", anchors="CKV_AZURE_160; CKV_AZURE_77; Azure.NSG.AnyInboundSource; Trivy AZU-0047"),
        config={
            "allowedPorts": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 65535},
                "default": [],
                "description": "TCP/UDP ports deliberately open to the Internet (for example 443 on an application "
                "gateway subnet).",
            }
        },
    ),
    [NSG, RULE],
)
def no_internet_ingress(r: Res, config: Mapping[str, Any]) -> Iterator[str]:
    allowed = {int(p) for p in config["allowedPorts"]}
    for rule in rules_of(r):
        if not _internet_inbound(rule) or is_unknown(rule.protocol):
            continue
        sources = sorted(s for s in rule.sources if is_internet(s))
        if rule.protocol not in ("tcp", "udp", "*"):
            yield f"{rule.label} allows {rule.protocol} from {sources}."
            continue
        ranges = rule.port_ranges()
        if ranges is None:
            continue
        rest = subtract(ranges, _mgmt_ports(rule.protocol) | allowed)
        if rest:
            yield f"{rule.label} allows {rule.protocol} port(s) {_fmt(rest)} from {sources}."


@resource_policy(
    Meta(
        name="nsg-no-internet-egress",
        control="NW-04",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description="No NSG rule explicitly allows outbound traffic to the Internet (any destination).",
        why=(
            "Explicit allow-all egress is the exfiltration path; outbound should go to service tags or through a "
            "firewall."
        ),
        remediation=(
            "Replace the destination with the service tags the workload needs (Storage, EventHub, AzureDatabricks, "
            "Sql)."
        ),
        framework=Framework("PSRule for Azure", "Azure.NSG.LateralTraversal", None, "Trivy AZU-0051"),
    ),
    [NSG, RULE],
)
def no_internet_egress(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    for rule in rules_of(r):
        if rule.allows("outbound") and any(is_internet(d) for d in rule.destinations):
            yield f"{rule.label} allows outbound to {sorted(d for d in rule.destinations if is_internet(d))}."


def _subnets(r: Res) -> list[tuple[str, Mapping[str, Any]]]:
    if r.type == SUBNET:
        name = r.get("subnetName") or r.get("name") or r.name
        return [(str(name), r.props)]
    return [
        (str(dig(s, "name", f"subnets[{i}]")), s)
        for i, s in enumerate(as_list(r.get("subnets")))
        if isinstance(s, Mapping)
    ]


@resource_policy(
    Meta(
        name="subnet-has-nsg",
        control="NW-05",
        service=SVC,
        severity=Severity.HIGH,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Every subnet (standalone or inline in a VNet) has a network security group, except the gateway and "
            "firewall subnets Azure reserves."
        ),
        why="A subnet without an NSG has no layer-4 segmentation at all.",
        remediation="Set networkSecurityGroup={'id': <nsg id>} on the subnet.",
        framework=mcsb("NS-1", anchors="Azure Policy e71308d3; CKV2_AZURE_31; Azure.VNET.UseNSGs"),
    ),
    [SUBNET, VNET],
)
def subnet_has_nsg(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    for name, subnet in _subnets(r):
        if name.lower() in _NSG_EXEMPT:
            continue
        nsg = dig(subnet, "networkSecurityGroup")
        if not (is_unknown(nsg) or is_set(dig(subnet, "networkSecurityGroup.id"))):
            yield f"subnet {name!r} has no networkSecurityGroup."


@resource_policy(
    Meta(
        name="subnet-no-default-outbound",
        control="NW-06",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.ADVISORY,
        description="Subnets are private: defaultOutboundAccess=false (delegated and gateway subnets excepted).",
        why="Default outbound access gives VMs an implicit, unaudited public egress IP.",
        remediation="Set defaultOutboundAccess=false and give the subnet explicit egress (NAT gateway or firewall).",
        framework=Framework("Azure Policy", "7bca8353", None, "Azure.VNET.PrivateSubnet"),
    ),
    [SUBNET, VNET],
)
def subnet_no_default_outbound(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    for name, subnet in _subnets(r):
        if name.lower() in _NSG_EXEMPT | {"azurebastionsubnet"} or as_list(dig(subnet, "delegations")):
            continue
        value = as_bool(dig(subnet, "defaultOutboundAccess"))
        if value is None or value is True:
            yield f"subnet {name!r} has defaultOutboundAccess {'unset (true)' if value is None else 'true'}."


@stack_policy(
    Meta(
        name="private-endpoint-dns-zone-group",
        control="NW-07",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description=(
            "Every private endpoint is registered in a private DNS zone: a PrivateDnsZoneGroup with a zone config, "
            "or (for endpoints to non-Azure Private Link services, such as Confluent's) A records in a private zone "
            "fed by the endpoint's address."
        ),
        why=(
            "Without the zone record, clients resolve the service's public name and either fail or go around the "
            "private endpoint."
        ),
        remediation=(
            "Add a network:PrivateDnsZoneGroup with privateEndpointName=<endpoint name>, name='default' and "
            "privateDnsZoneConfigs=[{privateDnsZoneId: ...}]; for an alias connection, add privatedns:PrivateRecordSet "
            "A records whose aRecords take the endpoint's IP."
        ),
        framework=Framework(
            "Azure Policy",
            "ac673a9a-f77d-4846-b2d8-a57f8e1c01d4",
            None,
            "DNS DINE family: ed66d4f5, 0eddd7f3, 75973700, 83c6fe0f",
        ),
    )
)
def dns_zone_group(graph: Graph, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    groups = graph.of_type(DNS_ZONE_GROUP)
    records = [r for r in graph.of_type(RECORD_SET) if lower(r.get("recordType", "A")) in ("a", UNKNOWN)]
    for pe in graph.of_type(PRIVATE_ENDPOINT):
        mine = [g for g in groups if graph.refers_by_name(g, pe, "privateEndpointName", "privateEndpointName")]
        if not mine:
            # Azure fills zone groups only for its own privatelink zones; alias endpoints register by A record.
            if any(
                pe.urn in r.property_dependencies.get("aRecords", ()) and as_list(r.get("aRecords")) for r in records
            ):
                continue
            yield pe.urn, f"private endpoint {pe.name!r} has no private DNS zone group or A record."
            continue
        configs = [c for g in mine for c in as_list(g.get("privateDnsZoneConfigs"))]
        if not any(c is UNKNOWN or is_set(dig(c, "privateDnsZoneId")) for c in configs):
            yield (
                pe.urn,
                f"the DNS zone group of private endpoint {pe.name!r} has no privateDnsZoneConfigs with a zone id.",
            )


dns_link_no_autoregistration = ZeroTrustResourcePolicy(
    Meta(
        name="private-dns-link-no-autoregistration",
        control="NW-07",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description="Private DNS zone VNet links do not auto-register VM records (registrationEnabled not true).",
        why=(
            "Auto-registration lets any VM in the VNet write records into the privatelink zone and shadow a service's "
            "name."
        ),
        remediation="Set registrationEnabled=false on privatedns:VirtualNetworkLink.",
        framework=None,
    ),
    [VNET_LINK],
    expect_flag("registrationEnabled", False),
)


@resource_policy(
    Meta(
        name="nic-no-public-ip",
        control="NW-09",
        service=SVC,
        severity=Severity.MEDIUM,
        enforcement=EnforcementLevel.MANDATORY,
        description="Network interfaces have no public IP address.",
        why="A public IP on a NIC bypasses every private-only design decision above it.",
        remediation="Remove ipConfigurations[].publicIPAddress; use Bastion, Private Link or a NAT gateway instead.",
        framework=mcsb("NS-2", anchors="Azure Policy 83a86a26; CKV_AZURE_119; Trivy AZU-0076"),
    ),
    [NIC],
)
def nic_no_public_ip(r: Res, _: Mapping[str, Any]) -> Iterator[str]:
    for i, conf in enumerate(as_list(r.get("ipConfigurations"))):
        if isinstance(conf, Mapping) and is_set(conf.get("publicIPAddress")):
            yield f"ipConfigurations[{i}] has a publicIPAddress."


POLICIES = [
    no_internet_ssh,
    no_internet_rdp,
    no_internet_ingress,
    no_internet_egress,
    subnet_has_nsg,
    subnet_no_default_outbound,
    dns_zone_group,
    dns_link_no_autoregistration,
    nic_no_public_ip,
]
