"""Entry point the Pulumi CLI runs (`python -m pulumi.policy <engine> policies`): build the pack, nothing else.

PolicyPack(...) starts the analyzer's gRPC server and blocks, so the policies
live in the importable `zero_trust` package next to this file.
"""

from pulumi_policy import PolicyPack
from zero_trust import ALL_POLICIES, PACK_DESCRIPTION, PACK_ENFORCEMENT, PACK_NAME

PolicyPack(
    name=PACK_NAME,
    policies=list(ALL_POLICIES),
    enforcement_level=PACK_ENFORCEMENT,
    description=PACK_DESCRIPTION,
    display_name="rta-platform zero trust",
    provider="azure",
    tags=["azure", "databricks", "confluent", "zero-trust"],
)
