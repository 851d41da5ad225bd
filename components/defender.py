"""Microsoft Defender for Cloud plans for the services the platform runs.

Plans are `Microsoft.Security/pricings` at subscription scope (names and sub-plans as the
azure-native `security.Pricing` docstrings give them, from the REST spec): StorageAccounts on
the DefenderForStorageV2 sub-plan with on-upload malware scanning (capped per account and month)
and sensitive-data discovery; KeyVaults (PerKeyVault); SqlServers; Arm (PerSubscription).
Containers and VirtualMachines only when a stack asks for them: the platform runs no AKS or
VMs of its own. A plan is subscription-wide, so two stacks in one subscription share it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import security

from components.base import CommonArgs, PlatformComponent

SUB_PLANS: dict[str, str] = {
    "StorageAccounts": "DefenderForStorageV2",
    "KeyVaults": "PerKeyVault",
    "Arm": "PerSubscription",
    "VirtualMachines": "P2",
}


@dataclass(frozen=True)
class DefenderArgs:
    common: CommonArgs
    plans: Sequence[str]
    malware_scanning_cap_gb_per_month: int = 5000


class Defender(PlatformComponent):
    """One Standard-tier pricing per plan at the stack's subscription."""

    def __init__(self, name: str, args: DefenderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Defender", name, args.common, opts)
        scope = pulumi.Output.concat("/subscriptions/", args.common.subscription_id)
        self.pricings: dict[str, security.Pricing] = {}
        for plan in args.plans:
            self.pricings[plan] = security.Pricing(
                f"{name}-{plan}",
                pricing_name=plan,
                scope_id=scope,
                pricing_tier=security.PricingTier.STANDARD,
                sub_plan=SUB_PLANS.get(plan),
                extensions=_storage_extensions(args.malware_scanning_cap_gb_per_month)
                if plan == "StorageAccounts"
                else None,
                opts=self._opts(),
            )
        self.register_outputs({"plans": list(self.pricings)})


def _storage_extensions(cap_gb: int) -> list[security.ExtensionArgs]:
    return [
        security.ExtensionArgs(
            name="OnUploadMalwareScanning",
            is_enabled=security.IsEnabled.TRUE,
            additional_extension_properties={"CapGBPerMonthPerStorageAccount": str(cap_gb)},
        ),
        security.ExtensionArgs(name="SensitiveDataDiscovery", is_enabled=security.IsEnabled.TRUE),
    ]
