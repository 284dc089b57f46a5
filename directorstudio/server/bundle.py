"""Build a self-contained deployable folder for one function.

``python -m directorstudio.server.bundle <function_name> <out_dir>`` copies
``functions/<function_name>/`` (``main.py``, ``requirements.txt``) and exactly the project
modules it imports, directly or indirectly, so the folder can be deployed on its own
(``gcloud functions deploy ... --source <out_dir>``) or served with functions-framework.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.paths import PROJECT_ROOT

FUNCTIONS_DIR = PROJECT_ROOT / "functions"
PACKAGE = "directorstudio"


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _imported_modules(source: Path, module: str | None) -> Iterable[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    is_package = source.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and module:
                parts = module.split(".")
                anchor = parts if is_package else parts[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def project_modules(entry: Path, root: Path = PROJECT_ROOT) -> dict[str, Path]:
    """Every ``directorstudio`` module (with its parent packages) that ``entry`` needs."""
    found: dict[str, Path] = {}
    queue: list[tuple[Path, str | None]] = [(entry, None)]
    while queue:
        source, module = queue.pop()
        for name in _imported_modules(source, module):
            if name != PACKAGE and not name.startswith(f"{PACKAGE}."):
                continue
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):
                candidate = ".".join(parts[:depth])
                if candidate in found:
                    continue
                path = _module_file(root, candidate)
                if path is None:
                    continue
                found[candidate] = path
                queue.append((path, candidate))
    return found


def bundle(function_name: str, out_dir: Path, *, root: Path = PROJECT_ROOT) -> list[Path]:
    """Write the deployable folder of ``function_name`` into ``out_dir``; the files written."""
    source_dir = root / "functions" / function_name
    entry = source_dir / "main.py"
    if not entry.is_file():
        raise DirectorStudioError(
            f"no function named {function_name!r} in {root / 'functions'}",
            code=ErrorCode.NOT_FOUND,
        )
    if out_dir.exists() and any(out_dir.iterdir()):
        raise DirectorStudioError(f"{out_dir} is not empty", code=ErrorCode.INVALID_INPUT)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for item in sorted(source_dir.iterdir()):
        if item.is_file() and item.suffix in {".py", ".txt", ".md"}:
            written.append(Path(shutil.copy2(item, out_dir / item.name)))
    for path in sorted(project_modules(entry, root).values()):
        target = out_dir / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copy2(path, target)))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m directorstudio.server.bundle")
    parser.add_argument("function_name", help="a folder name under functions/")
    parser.add_argument("out_dir", type=Path, help="where to write the deployable folder")
    args = parser.parse_args(argv)
    try:
        files = bundle(args.function_name, args.out_dir)
    except DirectorStudioError as error:
        print(f"error ({error.code}): {error.message}", file=sys.stderr)
        return 1
    print(f"wrote {len(files)} files to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
