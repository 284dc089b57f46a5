"""Migration history versus migration files.

``supabase_migrations.schema_migrations`` records each applied migration's statements (the
Supabase CLI stores them split, ``directorstudio migrate`` the whole file), so the checksum of
a migration is taken from a normalised text both forms share: comments, whitespace and
statement separators removed. A recorded version without statements (left by
``supabase migration repair``) cannot be verified and is reported as such.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from directorstudio import paths
from directorstudio.migrate import migration_files, version_of
from directorstudio.ops.findings import Conn, Finding

_COMMENT = re.compile(r"--[^\n]*")
_NOISE = re.compile(r"[\s;]+")


def checksum(statements: list[str]) -> str:
    """The checksum of a migration's statements (or of its file text as one statement)."""
    text = "".join(_NOISE.sub("", _COMMENT.sub("", s)) for s in statements)
    return hashlib.sha256(text.encode()).hexdigest()


def history_findings(conn: Conn, migrations_dir: Path = paths.MIGRATIONS_DIR) -> list[Finding]:
    """Files never applied, applied versions with no file, and files changed since applied."""
    exists = conn.execute("SELECT to_regclass('supabase_migrations.schema_migrations')").fetchone()
    files = {version_of(p): p for p in migration_files(migrations_dir)}
    if not exists or exists[0] is None:
        return [Finding("supabase_migrations.schema_migrations", "history_missing", "no history")]
    recorded = {
        str(version): statements
        for version, statements in conn.execute(
            "SELECT version, statements FROM supabase_migrations.schema_migrations"
        ).fetchall()
    }
    findings = []
    for version, path in sorted(files.items()):
        if version not in recorded:
            findings.append(Finding(path.name, "history_missing", "not applied"))
        elif recorded[version] is None:
            findings.append(Finding(path.name, "history_checksum", "no statements recorded"))
        elif checksum(recorded[version]) != checksum([path.read_text()]):
            findings.append(
                Finding(path.name, "history_checksum", "applied statements differ from the file")
            )
    for version in sorted(set(recorded) - set(files)):
        findings.append(Finding(version, "history_unknown", "applied, but no such migration file"))
    return findings
