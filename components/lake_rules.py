"""What Azure accepts in the lake's lifecycle and data-protection settings (pure: config and component share it)."""

from __future__ import annotations

from collections.abc import Sequence

# Containers holding Delta tables (the schemas' storage roots) or stream checkpoints. Blob lifecycle
# must never delete, archive or re-tier their files: a Delta log references data files by name and
# time travel / VACUUM decide what is unused, and a checkpoint is read back on every restart.
# Delta retention is a Delta operation (VACUUM), never a blob rule.
DELTA_AND_CHECKPOINT_CONTAINERS = ("bronze", "silver", "gold", "checkpoints")
# "Only storage accounts that are configured for LRS, GRS, or RA-GRS support moving blobs to the
# archive tier. The archive tier isn't supported for ZRS, GZRS, or RA-GZRS accounts."
# (learn.microsoft.com/azure/storage/blobs/access-tiers-overview; storage-redundancy). Cool and cold
# are online tiers and work with every redundancy.
ARCHIVE_CAPABLE_REPLICATION = ("LRS", "GRS", "RAGRS")
EXPIRY_ACTIONS = ("archive", "cold", "delete")
# Blob and container soft delete (days). Both work on hierarchical-namespace accounts; blob versioning
# and change feed do not (learn.microsoft.com/azure/storage/blobs/storage-feature-support-in-storage-accounts:
# "not yet supported" / preview for HNS), so they are left off on purpose.
SOFT_DELETE_DAYS = 14


def lifecycle_problems(replication: str, expiry_action: str, containers: Sequence[str]) -> list[str]:
    """What Azure would reject, or what would break the lake, in a lifecycle policy (empty = fine)."""
    problems = []
    if expiry_action not in EXPIRY_ACTIONS:
        problems.append(f"expiryAction {expiry_action!r} is not one of {list(EXPIRY_ACTIONS)}")
    if expiry_action == "archive" and replication not in ARCHIVE_CAPABLE_REPLICATION:
        problems.append(
            f"expiryAction 'archive' needs replication {'/'.join(ARCHIVE_CAPABLE_REPLICATION)}; the archive tier "
            f"is not supported on {replication} accounts (use 'cold' or 'delete')"
        )
    touched = [c for c in containers if c in DELTA_AND_CHECKPOINT_CONTAINERS]
    if touched:
        problems.append(
            f"lifecycleContainers {touched} hold Delta tables or stream checkpoints; blob lifecycle must never "
            "tier or delete them (Delta retention is VACUUM)"
        )
    return problems
