"""Every difference between two catalog snapshots, named object by object."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from directorstudio.routines.catalog import Snapshot

# What of each kind of object is compared (its whole record, minus bookkeeping fields).
_IGNORED = {"order", "functions"}
STRUCTURE = "table migration territory:"


def _fields(value: Any, label: str) -> dict[str, Any]:
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__ if k not in _IGNORED}
    return {label: value}


def _compare(
    kind: str,
    old: Mapping[Any, Any],
    new: Mapping[Any, Any],
    name: Callable[[Any], str] = str,
    label: str = "grants",
) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new), key=str):
        if key not in new:
            out.append(f"{kind} {name(key)}: only in the migrations")
        elif key not in old:
            out.append(f"{kind} {name(key)}: only in the sources")
        else:
            a, b = _fields(old[key], label), _fields(new[key], label)
            changed = [f for f in a if a[f] != b[f]]
            if changed:
                verb = "differs" if len(changed) == 1 else "differ"
                out.append(f"{kind} {name(key)}: {', '.join(changed)} {verb}")
    return out


def _default_acl_name(key: tuple[str, str, str]) -> str:
    role, schema, objtype = key
    return f"for {role} on {objtype}" + (f" in schema {schema}" if schema else "")


def differences(migrations: Snapshot, sources: Snapshot) -> list[str]:
    """One line per object that differs between what the migrations build and the sources."""
    return (
        _compare("schema", migrations.schemas, sources.schemas)
        + _compare("function", migrations.functions, sources.functions)
        + _compare("trigger", migrations.triggers, sources.triggers)
        + _compare("policy", migrations.policies, sources.policies)
        + _compare("relation", migrations.relation_acls, sources.relation_acls)
        + _compare("column", migrations.column_acls, sources.column_acls)
        + _compare(
            "default privileges",
            migrations.default_acls,
            sources.default_acls,
            _default_acl_name,
        )
        + _compare(STRUCTURE, migrations.structure, sources.structure, label="definition")
    )
