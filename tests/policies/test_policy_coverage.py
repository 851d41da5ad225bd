"""Every row of the control catalogue is enforced, covered by a named policy, or named as not enforced."""

from __future__ import annotations

import zero_trust
from zero_trust.coverage import CATALOGUE_ROWS, COVERED_BY, NOT_ENFORCED

from tools.gen_policy_table import ROOT


def test_every_catalogue_row_is_accounted_for_once() -> None:
    enforced = {p.meta.control for p in zero_trust.ALL_POLICIES}
    rows = set(CATALOGUE_ROWS)
    assert len(CATALOGUE_ROWS) == len(rows) == 90
    # Controls beyond the catalogue (egress, private monitoring, other services' own rows) are welcome.
    assert {"NW-10", "NW-11", "NW-12", "MO-03"} <= enforced - rows
    assert not (enforced & set(NOT_ENFORCED)), "a row is both enforced and named as not enforced"
    assert not (set(COVERED_BY) & set(NOT_ENFORCED))
    assert rows - enforced - set(COVERED_BY) - set(NOT_ENFORCED) == set(), "rows neither enforced nor named"


def test_covering_policies_exist_and_readme_names_every_unenforced_row() -> None:
    names = set(zero_trust.by_name())
    assert set(COVERED_BY.values()) <= names
    readme = (ROOT / "policies" / "README.md").read_text()
    for row in NOT_ENFORCED:
        assert f"| {row} |" in readme, f"policies/README.md does not name {row}"
