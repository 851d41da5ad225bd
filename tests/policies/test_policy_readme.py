"""The README's policy table is generated from the pack and must be current."""

from __future__ import annotations

import zero_trust

from tools import gen_policy_table


def test_readme_tables_are_up_to_date() -> None:
    for readme in gen_policy_table.READMES:
        current = readme.read_text()
        assert gen_policy_table.updated(current, readme) == current, f"{readme}: run python tools/gen_policy_table.py"


def test_table_lists_every_policy() -> None:
    table = gen_policy_table.render_table()
    for policy in zero_trust.ALL_POLICIES:
        assert f"`{policy.name}`" in table


def test_every_policy_documents_itself() -> None:
    assert len(zero_trust.ALL_POLICIES) >= 45
    for policy in zero_trust.ALL_POLICIES:
        meta = policy.meta
        assert meta.severity and meta.enforcement, meta.name
        assert meta.description and meta.why and meta.remediation, meta.name
        assert meta.control, meta.name
