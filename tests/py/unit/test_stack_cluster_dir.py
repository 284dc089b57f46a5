"""Where the stack keeps PostgreSQL's files: in its data directory when the server can reach it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from directorstudio.stack.stack import cluster_dir


def test_a_reachable_data_directory_holds_the_cluster() -> None:
    base = Path(tempfile.mkdtemp(prefix="directorstudio-reach-"))
    base.chmod(0o755)
    assert cluster_dir(base) == base / "postgres"
    base.rmdir()


def test_behind_a_private_folder_the_cluster_moves_where_the_server_can_reach_it(
    tmp_path: Path,
) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    data_dir = private / "stack"
    data_dir.mkdir(mode=0o755)
    found = cluster_dir(data_dir)
    if os.geteuid() == 0:
        assert found.parent.name == "directorstudio"
        assert found == cluster_dir(data_dir)
    else:
        assert found == data_dir / "postgres"
