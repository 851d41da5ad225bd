"""Coverage of the zero-trust control catalogue (the project's shared control catalogue, 90 rows).

Every catalogue row is either the `control` of at least one policy, covered by a named policy whose
control id is another row, or named here as not enforced, with the reason. tests/policies hold the
three sets to the catalogue's row ids, so a row can neither vanish nor be counted twice.
"""

from __future__ import annotations

# The catalogue's row ids, in its order (storage, Key Vault, Event Hubs, Databricks workspace, SQL,
# network, monitoring, identity, governance, Databricks objects, Confluent).
CATALOGUE_ROWS: tuple[str, ...] = (
    *(f"ST-{i:02d}" for i in range(1, 18)),
    *(f"KV-{i:02d}" for i in range(1, 10)),
    *(f"EH-{i:02d}" for i in range(1, 10)),
    *(f"DB-{i:02d}" for i in range(1, 12)),
    *(f"SQ-{i:02d}" for i in range(1, 13)),
    *(f"NW-{i:02d}" for i in range(1, 10)),
    "MO-01",
    "MO-02",
    "ID-01",
    "ID-02",
    *(f"GV-{i:02d}" for i in range(1, 4)),
    *(f"PD-{i:02d}" for i in range(1, 10)),
    *(f"CC-{i:02d}" for i in range(1, 8)),
)

# Rows enforced by a policy filed under a broader row: row -> the policy that enforces it.
COVERED_BY: dict[str, str] = {
    "ST-17": "diagnostic-settings-present",  # storage accounts are in its resource types (blob service logs)
    "EH-07": "diagnostic-settings-present",
    "DB-09": "diagnostic-settings-present",
    "ID-02": "storage-no-shared-key",  # composite row: also eventhub-local-auth-disabled, sql-entra-only-auth,
    # keyvault-rbac-authorization and databricks-storage-credential-managed-identity
}

# Rows deliberately not enforced, with the reason.
NOT_ENFORCED: dict[str, str] = {
    "ST-10": "Hierarchical namespace is a functional choice (a data lake needs it, a flow-log account does not), "
    "not a security control; no anchor treats it as one.",
    "ST-13": "Moot: storage-no-shared-key forbids Shared Key on every account, so no account SAS can be signed "
    "(Checkov CKV2_AZURE_41 passes in that case); a separate policy would only double-report the same finding.",
    "EH-09": "The Kafka endpoint is functional (the platform needs it); no anchor checks it, and with EH-01 Kafka "
    "clients cannot use SAS anyway.",
    "DB-10": "The enhanced security and compliance add-on is a paid profile with its own runtime restrictions; the "
    "controls it bundles (CSP, ESM, automatic updates) are chosen per workload, not mandated by zero trust.",
    "SQ-09": "Defender for SQL (defender-plans, GV-03) turns on express vulnerability assessment by default, so a "
    "per-server SqlVulnerabilityAssessmentsSetting would duplicate what the plan already enforces.",
    "PD-02": "Moot: databricks-public-network-disabled closes the workspace front end, so there is no public "
    "endpoint for an IP access list to filter.",
    "CC-07": "Confluent management-plane IP filtering needs an organization-level feature outside a stack's "
    "resources, and the cluster's data plane is already private (confluent-private-networking).",
}
