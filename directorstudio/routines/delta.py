"""The SQL that turns one catalog snapshot into another.

Rendered in two steps, each statement safe to run twice. :func:`definitions` creates, replaces
and drops schemas, functions, triggers and policies in an order that is safe for their
dependencies: policies and triggers are dropped before the functions they use, functions are
created before the triggers and policies that use them, and an unchanged object is never
touched. :func:`privileges` then brings grants, default privileges, comments and trigger states
in line; it is rendered against the database as it is after the definitions ran, because a
created function starts with whatever default privileges the database has.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from directorstudio.routines.catalog import Acl, Function, Policy, Snapshot, Trigger

POLICY_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}
DEFAULT_ACL_OBJECTS = {
    "r": "TABLES",
    "S": "SEQUENCES",
    "f": "FUNCTIONS",
    "T": "TYPES",
    "n": "SCHEMAS",
}
TRIGGER_STATES = {"O": "ENABLE", "D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}


def _replaceable(old: Function, new: Function) -> bool:
    """Whether CREATE OR REPLACE can turn ``old`` into ``new`` (else: drop and create)."""
    return (
        old.kind == new.kind
        and old.result == new.result
        and old.arguments == new.arguments
        and new.defaults >= old.defaults
    )


def _policy_alterable(old: Policy, new: Policy) -> bool:
    """Whether ALTER POLICY suffices (it changes roles and expressions, never removes one)."""
    return (
        old.permissive == new.permissive
        and old.command == new.command
        and (new.using is not None or old.using is None)
        and (new.check is not None or old.check is None)
    )


def _function_ddl(function: Function) -> str:
    return function.definition.rstrip() + ";"


def _routine_word(kind: str) -> str:
    return "PROCEDURE" if kind == "p" else "FUNCTION"


def _create_policy(policy: Policy, guard: bool) -> str:
    """CREATE POLICY; ``guard``: preceded by its DROP IF EXISTS, so that a re-run succeeds."""
    parts = [f"DROP POLICY IF EXISTS {policy.name} ON {policy.table};"] if guard else []
    parts += [
        f"CREATE POLICY {policy.name} ON {policy.table}",
        f"AS {'PERMISSIVE' if policy.permissive else 'RESTRICTIVE'}",
        f"FOR {POLICY_COMMANDS[policy.command]}",
        f"TO {', '.join(policy.roles)}",
    ]
    if policy.using is not None:
        parts.append(f"USING ({policy.using})")
    if policy.check is not None:
        parts.append(f"WITH CHECK ({policy.check})")
    return "\n".join(parts) + ";"


def _alter_policy(policy: Policy) -> str:
    parts = [f"ALTER POLICY {policy.name} ON {policy.table}", f"TO {', '.join(policy.roles)}"]
    if policy.using is not None:
        parts.append(f"USING ({policy.using})")
    if policy.check is not None:
        parts.append(f"WITH CHECK ({policy.check})")
    return "\n".join(parts) + ";"


def _create_trigger(trigger: Trigger) -> str:
    """A new trigger, created so that running the migration again changes nothing."""
    if trigger.constraint:  # CREATE OR REPLACE does not apply to constraint triggers
        return f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table};\n{trigger.definition};"
    return _replace_trigger(trigger)


def _replace_trigger(trigger: Trigger) -> str:
    return trigger.definition.replace("CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1) + ";"


def definitions(current: Snapshot, target: Snapshot) -> list[str]:
    """Statements creating, replacing and dropping schemas, functions, triggers and policies."""
    cur_f, tgt_f = current.functions, target.functions
    dropped_functions = [s for s in cur_f if s not in tgt_f]
    changed_functions = [
        s for s in tgt_f if s in cur_f and cur_f[s].definition != tgt_f[s].definition
    ]
    recreated = {s for s in changed_functions if not _replaceable(cur_f[s], tgt_f[s])}
    gone = set(dropped_functions) | recreated

    cur_t, tgt_t = current.triggers, target.triggers
    trigger_drops: list[Trigger] = []
    trigger_creates: list[Trigger] = []
    trigger_replaces: list[Trigger] = []
    for key, old_t in cur_t.items():
        new_t = tgt_t.get(key)
        if new_t is None:
            trigger_drops.append(old_t)
        elif old_t.function in gone or (
            old_t.definition != new_t.definition and (old_t.constraint or new_t.constraint)
        ):
            trigger_drops.append(old_t)
            trigger_creates.append(new_t)
        elif old_t.definition != new_t.definition:
            trigger_replaces.append(new_t)
    trigger_creates += [t for k, t in tgt_t.items() if k not in cur_t]

    cur_p, tgt_p = current.policies, target.policies
    policy_drops: list[Policy] = []
    policy_creates: list[Policy] = []
    policy_alters: list[Policy] = []
    for key, old in cur_p.items():
        new = tgt_p.get(key)
        if new is None:
            policy_drops.append(old)
        elif gone.intersection(old.functions) or (
            _policy_differs(old, new) and not _policy_alterable(old, new)
        ):
            policy_drops.append(old)
            policy_creates.append(new)
        elif _policy_differs(old, new):
            policy_alters.append(new)
    policy_creates += [p for k, p in tgt_p.items() if k not in cur_p]

    out: list[str] = []
    out += [f"DROP POLICY IF EXISTS {p.name} ON {p.table};" for p in _sorted(policy_drops)]
    out += [f"DROP TRIGGER IF EXISTS {t.name} ON {t.table};" for t in _sorted(trigger_drops)]
    out += [
        f"DROP {_routine_word(cur_f[s].kind)} IF EXISTS {s};"
        for s in sorted(set(dropped_functions)) + sorted(recreated)
    ]
    out += [
        f"CREATE SCHEMA IF NOT EXISTS {s};"
        for s in sorted(target.schemas)
        if s not in current.schemas
    ]
    created = [tgt_f[s] for s in tgt_f if s not in cur_f or s in changed_functions]
    out += [_function_ddl(f) for f in sorted(created, key=lambda f: f.order)]
    out += [_create_trigger(t) for t in _sorted(trigger_creates)]
    out += [_replace_trigger(t) for t in _sorted(trigger_replaces)]
    out += [_create_policy(p, p.key not in cur_p) for p in _sorted(policy_creates)]
    out += [_alter_policy(p) for p in _sorted(policy_alters)]
    out += [
        f"DROP SCHEMA IF EXISTS {s};" for s in sorted(current.schemas) if s not in target.schemas
    ]
    return out


def _policy_differs(old: Policy, new: Policy) -> bool:
    return (old.permissive, old.command, old.roles, old.using, old.check) != (
        new.permissive,
        new.command,
        new.roles,
        new.using,
        new.check,
    )


_Keyed = TypeVar("_Keyed", Trigger, Policy)


def _sorted(objects: Iterable[_Keyed]) -> list[_Keyed]:
    return sorted(objects, key=lambda o: o.key)


def privileges(current: Snapshot, target: Snapshot) -> list[str]:
    """Grants, default privileges, comments and trigger states of ``current`` made ``target``'s.

    Only objects present in both are compared: :func:`definitions` must have run first.
    """
    out: list[str] = []
    for name, schema in sorted(target.schemas.items()):
        if (old := current.schemas.get(name)) is not None:
            out += _acl_delta(f"SCHEMA {name}", old.acl, schema.acl)
            out += _comment_delta(f"SCHEMA {name}", old.comment, schema.comment)
    for signature, function in sorted(target.functions.items()):
        if (old_f := current.functions.get(signature)) is not None:
            word = _routine_word(function.kind)
            out += _acl_delta(f"{word} {signature}", old_f.acl, function.acl)
            out += _comment_delta(f"{word} {signature}", old_f.comment, function.comment)
    for relation, (kind, acl) in sorted(target.relation_acls.items()):
        if (old_r := current.relation_acls.get(relation)) is not None:
            word = "SEQUENCE" if kind == "S" else "TABLE"
            out += _acl_delta(f"{word} {relation}", old_r[1], acl)
    for column_key in sorted(set(current.column_acls) | set(target.column_acls)):
        old_c = current.column_acls.get(column_key)
        new_c = target.column_acls.get(column_key)
        relation, column = (new_c or old_c or ("", "", Acl()))[:2]
        out += _acl_delta(
            f"TABLE {relation}",
            old_c[2] if old_c else Acl(),
            new_c[2] if new_c else Acl(),
            column=column,
        )
    for key in sorted(set(current.default_acls) | set(target.default_acls)):
        role, schema_name, objtype = key
        prefix = f"ALTER DEFAULT PRIVILEGES FOR ROLE {role}" + (
            f" IN SCHEMA {schema_name}" if schema_name else ""
        )
        out += [
            f"{prefix} {statement}"
            for statement in _acl_delta(
                DEFAULT_ACL_OBJECTS[objtype],
                current.default_acls.get(key, Acl()),
                target.default_acls.get(key, Acl()),
            )
        ]
    for trigger_key, trigger in sorted(target.triggers.items()):
        if (old_t := current.triggers.get(trigger_key)) is not None:
            if old_t.enabled != trigger.enabled:
                out.append(
                    f"ALTER TABLE {trigger.table}"
                    f" {TRIGGER_STATES[trigger.enabled]} TRIGGER {trigger.name};"
                )
            on = f"TRIGGER {trigger.name} ON {trigger.table}"
            out += _comment_delta(on, old_t.comment, trigger.comment)
    for policy_key, policy in sorted(target.policies.items()):
        if (old_p := current.policies.get(policy_key)) is not None:
            on = f"POLICY {policy.name} ON {policy.table}"
            out += _comment_delta(on, old_p.comment, policy.comment)
    return out


def _comment_delta(on: str, old: str | None, new: str | None) -> list[str]:
    if old == new:
        return []
    text = "NULL" if new is None else "'" + new.replace("'", "''") + "'"
    return [f"COMMENT ON {on} IS {text};"]


def _acl_delta(on: str, old: Acl, new: Acl, column: str | None = None) -> list[str]:
    """GRANT and REVOKE statements turning ``old`` into ``new`` on one object."""
    out: list[str] = []
    old_by = _by_grantee(old)
    new_by = _by_grantee(new)
    for grantee in sorted(set(old_by) | set(new_by)):
        had, has = old_by.get(grantee, {}), new_by.get(grantee, {})
        who = "PUBLIC" if grantee == "PUBLIC" else grantee
        revoke = sorted(p for p in had if p not in has)
        grant = sorted(p for p in has if p not in had or (has[p] and not had[p]))
        ungrant = sorted(p for p in has if p in had and had[p] and not has[p])
        if revoke:
            out.append(f"REVOKE {_privs(revoke, column)} ON {on} FROM {who};")
        if ungrant:
            out.append(f"REVOKE GRANT OPTION FOR {_privs(ungrant, column)} ON {on} FROM {who};")
        for option in (False, True):
            chosen = [p for p in grant if has[p] is option]
            if chosen:
                suffix = " WITH GRANT OPTION" if option else ""
                out.append(f"GRANT {_privs(chosen, column)} ON {on} TO {who}{suffix};")
    return out


def _privs(names: list[str], column: str | None) -> str:
    return ", ".join(f"{n} ({column})" if column else n for n in names)


def _by_grantee(acl: Acl) -> dict[str, dict[str, bool]]:
    out: dict[str, dict[str, bool]] = {}
    for grantee, privilege, grantable in acl:
        out.setdefault(grantee, {})[privilege] = grantable
    return out
