"""The pgTAP runner passes on exactly the lines pgTAP prints."""

from __future__ import annotations

from tests.conftest import _TAP_LINE


def test_pgtap_output_lines_are_kept() -> None:
    for line in ("ok 1 - works", "not ok 2 - fails", "1..15", "# Looks like", "    # have: 1"):
        assert _TAP_LINE.match(line), line


def test_set_up_rows_that_only_look_like_a_plan_are_dropped() -> None:
    for line in ("1e253c4a-0000-4000-8000-000000000000", "(1,2)", "okay", "switched role"):
        assert not _TAP_LINE.match(line), line
