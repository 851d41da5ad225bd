"""Component contracts that no shipped stack exercises: run tiny programs through the same engine."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from offline.engine import StackProgramError, run_stack

PREAMBLE = """
import pulumi
from components.base import CommonArgs, DiagnosticsArgs, PrivateEndpointArgs, RoleAssignmentArgs
from components.key_vault import KeyVault, KeyVaultArgs
from components.roles import BuiltInRole

common = CommonArgs(resource_group_name="rg", location="westeurope", tags={}, subscription_id="sub")
diagnostics = DiagnosticsArgs(workspace_id="/law")
endpoint = PrivateEndpointArgs(subnet_id="/subnet", private_dns_zone_id="/zone", group_id="vault")
"""


def _program(tmp_path: Path, body: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: contract\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(PREAMBLE + textwrap.dedent(body))
    return tmp_path


def test_a_private_service_without_private_endpoints_is_refused(tmp_path: Path) -> None:
    root = _program(
        tmp_path,
        """
        KeyVault("kv", KeyVaultArgs(common=common, diagnostics=diagnostics, private_endpoints=(),
                                    vault_name="kv-x", tenant_id="t"))
        """,
    )
    with pytest.raises(StackProgramError) as info:
        run_stack("test", root=root)
    assert "needs at least one private endpoint" in str(info.value.cause)


def test_a_role_assignment_on_an_unknown_scope_is_refused_not_widened(tmp_path: Path) -> None:
    root = _program(
        tmp_path,
        """
        KeyVault("kv", KeyVaultArgs(
            common=common, diagnostics=diagnostics, private_endpoints=(endpoint,), vault_name="kv-x", tenant_id="t",
            role_assignments=[RoleAssignmentArgs(principal_id="p", role=BuiltInRole.KEY_VAULT_SECRETS_USER,
                                                 name="reader", sub_scope="secrets/api-key")]))
        """,
    )
    with pytest.raises(StackProgramError) as info:
        run_stack("test", root=root)
    assert "names unknown scope 'secrets/api-key'" in str(info.value.cause)


def test_the_minimal_vault_is_secure_with_nothing_but_required_arguments(tmp_path: Path) -> None:
    root = _program(
        tmp_path,
        """
        KeyVault("kv", KeyVaultArgs(common=common, diagnostics=diagnostics, private_endpoints=(endpoint,),
                                    vault_name="kv-x", tenant_id="t"))
        """,
    )
    plan = run_stack("test", root=root)
    props = plan.one("azure-native:keyvault:Vault", "kv-kv").inputs["properties"]
    assert props["enableRbacAuthorization"] and props["enablePurgeProtection"]
    assert props["publicNetworkAccess"] == "Disabled" and props["networkAcls"]["defaultAction"] == "Deny"
    assert plan.of_type("azure-native:monitor:DiagnosticSetting")
    assert plan.of_type("azure-native:network:PrivateDnsZoneGroup")
