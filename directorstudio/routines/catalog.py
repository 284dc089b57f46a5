"""The objects routines migrations manage, read from a database's catalog.

Every name is read with an empty ``search_path`` so that definitions come out fully qualified
and can be replayed anywhere. System schemas, the migration history and extension members are
left out; everything else (the platform's schemas included) is compared, so a difference shows
up wherever the sources made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

# (grantee, privilege, grantable); grantee "PUBLIC" for the pseudo-role.
AclItem = tuple[str, str, bool]
Acl = frozenset[AclItem]

USER_SCHEMA = """
    n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'supabase_migrations')
    AND n.nspname NOT LIKE 'pg\\_%'
"""


def _not_extension(catalog: str, oid: str) -> str:
    return f"""NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = '{catalog}'::regclass
                           AND d.objid = {oid} AND d.deptype = 'e')"""


def _acl(acl: str, kind: str, owner: str) -> str:
    """The effective ACL (NULL means the built-in default) as a JSON array of items."""
    return f"""
        (SELECT coalesce(jsonb_agg(jsonb_build_array(
                    CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                    a.privilege_type, a.is_grantable)), '[]'::jsonb)
         FROM aclexplode(coalesce({acl}, acldefault({kind}::"char", {owner}))) AS a)"""


def _stored_acl(acl: str) -> str:
    return f"""
        (SELECT coalesce(jsonb_agg(jsonb_build_array(
                    CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                    a.privilege_type, a.is_grantable)), '[]'::jsonb)
         FROM aclexplode(coalesce({acl}, '{{}}')) AS a)"""


SCHEMAS = f"""
    SELECT quote_ident(n.nspname), {_acl("n.nspacl", "'n'", "n.nspowner")},
           obj_description(n.oid, 'pg_namespace')
    FROM pg_namespace n
    WHERE {USER_SCHEMA} AND {_not_extension("pg_namespace", "n.oid")}
"""

FUNCTIONS = f"""
    SELECT p.oid::regprocedure::text, p.oid::int8, quote_ident(n.nspname), p.prokind::text,
           pg_get_functiondef(p.oid), pg_get_function_result(p.oid),
           coalesce(array_to_string(p.proargnames, ','), '') || '/'
               || coalesce(array_to_string(p.proargmodes, ','), ''),
           p.pronargdefaults, {_acl("p.proacl", "'f'", "p.proowner")},
           obj_description(p.oid, 'pg_proc')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE {USER_SCHEMA} AND p.prokind IN ('f', 'p') AND {_not_extension("pg_proc", "p.oid")}
"""

TRIGGERS = f"""
    SELECT t.tgrelid::regclass::text || '.' || quote_ident(t.tgname), t.tgrelid::regclass::text,
           quote_ident(t.tgname), pg_get_triggerdef(t.oid), t.tgenabled::text,
           t.tgconstraint <> 0, obj_description(t.oid, 'pg_trigger'),
           t.tgfoid::regprocedure::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND {USER_SCHEMA}
"""

POLICIES = f"""
    SELECT pol.polrelid::regclass::text || '.' || quote_ident(pol.polname),
           pol.polrelid::regclass::text, quote_ident(pol.polname), pol.polpermissive,
           pol.polcmd::text,
           ARRAY(SELECT CASE r WHEN 0 THEN 'PUBLIC' ELSE r::regrole::text END
                 FROM unnest(pol.polroles) AS r ORDER BY 1),
           pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid),
           obj_description(pol.oid, 'pg_policy'),
           ARRAY(SELECT d.refobjid::regprocedure::text FROM pg_depend d
                 WHERE d.classid = 'pg_policy'::regclass AND d.objid = pol.oid
                   AND d.refclassid = 'pg_proc'::regclass)
    FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {USER_SCHEMA}
"""

RELATION_ACLS = f"""
    SELECT c.oid::regclass::text, c.relkind::text,
           {_acl("c.relacl", "CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END", "c.relowner")}
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {USER_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND {_not_extension("pg_class", "c.oid")}
"""

COLUMN_ACLS = f"""
    SELECT c.oid::regclass::text || '.' || quote_ident(a.attname), c.oid::regclass::text,
           quote_ident(a.attname), {_stored_acl("a.attacl")}
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {USER_SCHEMA} AND a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
"""

# A global entry replaces the built-in default (so every role gets one, the built-in default when
# there is no entry: roles are shared by the databases of a server), a schema entry adds to it.
DEFAULT_ACLS = f"""
    SELECT r.oid::regrole::text, '', k.objtype,
           {_acl("d.defaclacl", "CASE k.objtype WHEN 'S' THEN 's' ELSE k.objtype END", "r.oid")}
    FROM pg_roles r
    CROSS JOIN (VALUES ('r'), ('S'), ('f'), ('T'), ('n')) AS k (objtype)
    LEFT JOIN pg_default_acl d
        ON d.defaclrole = r.oid AND d.defaclnamespace = 0 AND d.defaclobjtype::text = k.objtype
    WHERE r.rolname NOT LIKE 'pg\\_%'
    UNION ALL
    SELECT d.defaclrole::regrole::text, quote_ident(n.nspname), d.defaclobjtype::text,
           {_stored_acl("d.defaclacl")}
    FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
"""

# What routines migrations never change: a difference here means a source file did something
# that belongs in a table migration.
STRUCTURE = f"""
    SELECT 'relation ' || c.oid::regclass::text,
           c.relkind::text || ' rls=' || c.relrowsecurity || ' force=' || c.relforcerowsecurity
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {USER_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'i')
    UNION ALL
    SELECT 'column ' || c.oid::regclass::text || '.' || quote_ident(a.attname),
           format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull
               || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
               || ' generated=' || a.attgenerated::text || ' identity=' || a.attidentity::text
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE {USER_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0
      AND NOT a.attisdropped
    UNION ALL
    SELECT 'constraint ' || con.conrelid::regclass::text || '.' || quote_ident(con.conname),
           pg_get_constraintdef(con.oid) || CASE WHEN con.convalidated THEN '' ELSE ' NOT VALID' END
    FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
    WHERE {USER_SCHEMA} AND con.contype <> 't'
    UNION ALL
    SELECT 'index ' || i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_SCHEMA}
    UNION ALL
    SELECT 'view ' || c.oid::regclass::text, pg_get_viewdef(c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE {USER_SCHEMA} AND c.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'type ' || t.oid::regtype::text, t.typtype::text
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE {USER_SCHEMA} AND t.typtype IN ('e', 'd', 'c', 'r', 'm')
      AND (t.typrelid = 0 OR EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid
                                     AND c.relkind = 'c'))
    UNION ALL
    SELECT 'extension ' || e.extname, e.extnamespace::regnamespace::text || ' ' || e.extversion
    FROM pg_extension e
"""


def _acl_of(value: Any) -> Acl:
    return frozenset((str(g), str(p), bool(o)) for g, p, o in value)


@dataclass(frozen=True)
class Function:
    signature: str  # schema.name(argument types), as DROP and GRANT take it
    order: int  # creation order in its database
    schema: str
    kind: str  # f function, p procedure
    definition: str
    result: str
    arguments: str  # names and modes: what CREATE OR REPLACE may not change
    defaults: int
    acl: Acl
    comment: str | None


@dataclass(frozen=True)
class Trigger:
    key: str
    table: str
    name: str
    definition: str
    enabled: str
    constraint: bool
    comment: str | None
    function: str


@dataclass(frozen=True)
class Policy:
    key: str
    table: str
    name: str
    permissive: bool
    command: str
    roles: tuple[str, ...]
    using: str | None
    check: str | None
    comment: str | None
    functions: tuple[str, ...]


@dataclass(frozen=True)
class Schema:
    name: str
    acl: Acl
    comment: str | None


@dataclass(frozen=True)
class Snapshot:
    """Everything routines migrations manage, plus the structure they must not change."""

    schemas: dict[str, Schema] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    relation_acls: dict[str, tuple[str, Acl]] = field(default_factory=dict)
    column_acls: dict[str, tuple[str, str, Acl]] = field(default_factory=dict)
    default_acls: dict[tuple[str, str, str], Acl] = field(default_factory=dict)
    structure: dict[str, str] = field(default_factory=dict)


def read_snapshot(url: str) -> Snapshot:
    """The catalog of the database at ``url``."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET search_path = ''")
        return snapshot_of(conn)


def snapshot_of(conn: psycopg.Connection[Any]) -> Snapshot:
    """The catalog as seen by ``conn`` (whose ``search_path`` should be empty)."""
    snap = Snapshot()
    for name, acl, comment in conn.execute(SCHEMAS):
        snap.schemas[name] = Schema(name, _acl_of(acl), comment)
    for sig, order, schema, kind, text, result, args, defaults, acl, comment in conn.execute(
        FUNCTIONS
    ):
        snap.functions[sig] = Function(
            sig, order, schema, kind, text, result, args, defaults, _acl_of(acl), comment
        )
    for row in conn.execute(TRIGGERS):
        snap.triggers[row[0]] = Trigger(*row)
    for row in conn.execute(POLICIES):
        key, table, name, permissive, cmd, roles, using, check, comment, funcs = row
        snap.policies[key] = Policy(
            key, table, name, permissive, cmd, tuple(roles), using, check, comment, tuple(funcs)
        )
    for relation, kind, acl in conn.execute(RELATION_ACLS):
        snap.relation_acls[relation] = (kind, _acl_of(acl))
    for key, relation, column, acl in conn.execute(COLUMN_ACLS):
        snap.column_acls[key] = (relation, column, _acl_of(acl))
    for role, schema, objtype, acl in conn.execute(DEFAULT_ACLS):
        snap.default_acls[(role, schema, objtype)] = _acl_of(acl)
    for key, value in conn.execute(STRUCTURE):
        snap.structure[key] = value
    return snap
