"""``directorstudio check``: the rollout checklist's migration integrity and foreign key checks.

Runs every rule against a database (read only) and reports what it finds: the migration
history against the migration files, the catalog rules (row level security, policies, fixed
``search_path``, SECURITY DEFINER exposure, foreign key indexes, grants to anon, the Supabase
advisor's rules) and the foreign keys' validity (no NOT VALID constraint, no orphan row).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from directorstudio import paths
from directorstudio.ops.check_history import history_findings
from directorstudio.ops.check_rules import RULES, catalog_findings
from directorstudio.ops.findings import Finding

HISTORY_RULES = ("history_missing", "history_unknown", "history_checksum")
ALL_RULES = (*HISTORY_RULES, *RULES)


@dataclass(frozen=True)
class CheckReport:
    """Every finding of one run; the database passes when there is none."""

    findings: list[Finding]

    @property
    def passed(self) -> bool:
        return not self.findings

    def as_json(self) -> str:
        body = {
            "passed": self.passed,
            "rules": list(ALL_RULES),
            "findings": [f.as_dict() for f in self.findings],
        }
        return json.dumps(body, indent=2)

    def print(self, out: Console, err: Console) -> None:
        if self.passed:
            out.print(f"all {len(ALL_RULES)} rules pass")
            return
        table = Table(title="directorstudio check")
        table.add_column("object", overflow="fold")
        table.add_column("rule", no_wrap=True)
        table.add_column("finding", overflow="fold")
        for finding in self.findings:
            table.add_row(finding.object, finding.rule, finding.finding)
        out.print(table)
        failing = sorted({f.object for f in self.findings})
        err.print(
            f"[red]{len(self.findings)} findings[/] on {len(failing)} objects: "
            + ", ".join(failing),
            soft_wrap=True,
        )


def run_check(database_url: str, migrations_dir: Path = paths.MIGRATIONS_DIR) -> CheckReport:
    """Every rule against the database at ``database_url`` (nothing is written)."""
    with psycopg.connect(database_url) as conn:
        conn.read_only = True
        findings = history_findings(conn, migrations_dir) + catalog_findings(conn)
    return CheckReport(findings)
