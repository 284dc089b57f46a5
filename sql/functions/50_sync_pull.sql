-- Delta pull: the caller's rows of every synced table that changed since a cursor, in pages,
-- tombstones included.
--
-- Every synced row carries sync_txid, the id of the transaction that last wrote it. A pull cycle
-- takes a snapshot `until` when it starts; the cycle delivers exactly the rows whose sync_txid
-- is visible in `until` but was not visible in `since` (the `until` of the previous completed
-- cycle). Because membership is decided by snapshot visibility and not by comparing numbers, a
-- transaction that took a lower id but committed after a higher one is still in progress in
-- that `until`, so its rows fall into the next cycle instead of being skipped. Inside a cycle,
-- rows are paged in (sync_txid, table, id) order with `after`. Rows written by the pulling
-- transaction itself (only possible when a pull runs inside a larger transaction) are always
-- included, as that transaction sees them; at worst they are delivered again later. The cursor
-- is opaque to clients: base64 of {"v": 1, "since", "until", "after"}. See docs/sync.md.

DROP FUNCTION IF EXISTS private.sync_encode_cursor(pg_snapshot, pg_snapshot, jsonb);
CREATE OR REPLACE FUNCTION private.sync_encode_cursor(
    p_since pg_snapshot, p_until pg_snapshot, p_after jsonb
)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT translate(
        encode(
            convert_to(
                jsonb_build_object(
                    'v', 1,
                    'since', p_since::text,
                    'until', p_until::text,
                    'after', p_after
                )::text,
                'UTF8'
            ),
            'base64'
        ),
        E'\n', ''
    )
$$;

DROP FUNCTION IF EXISTS private.sync_decode_cursor(text);
CREATE OR REPLACE FUNCTION private.sync_decode_cursor(
    p_cursor text,
    OUT since pg_snapshot,
    OUT until pg_snapshot,
    OUT after_txid xid8,
    OUT after_table text,
    OUT after_id uuid
)
RETURNS record
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_doc jsonb;
    v_after jsonb;
BEGIN
    IF p_cursor IS NULL THEN
        RETURN;
    END IF;
    BEGIN
        v_doc := convert_from(decode(p_cursor, 'base64'), 'UTF8')::jsonb;
        IF jsonb_typeof(v_doc) IS DISTINCT FROM 'object'
            OR v_doc -> 'v' IS DISTINCT FROM '1'::jsonb
            OR NOT v_doc ?& ARRAY['since', 'until', 'after']
            OR (v_doc - ARRAY['v', 'since', 'until', 'after']) <> '{}'::jsonb
            OR jsonb_typeof(v_doc -> 'since') NOT IN ('string', 'null')
            OR jsonb_typeof(v_doc -> 'until') NOT IN ('string', 'null')
            OR jsonb_typeof(v_doc -> 'after') NOT IN ('object', 'null') THEN
            RAISE EXCEPTION 'malformed cursor';
        END IF;
        since := (v_doc ->> 'since')::pg_snapshot;
        until := (v_doc ->> 'until')::pg_snapshot;
        v_after := nullif(v_doc -> 'after', 'null'::jsonb);
        IF v_after IS NOT NULL THEN
            IF until IS NULL
                OR NOT v_after ?& ARRAY['txid', 'table', 'id']
                OR (v_after - ARRAY['txid', 'table', 'id']) <> '{}'::jsonb
                OR NOT EXISTS (
                    SELECT FROM private.sync_tables() AS t WHERE t.tbl = v_after ->> 'table'
                ) THEN
                RAISE EXCEPTION 'malformed cursor position';
            END IF;
            after_txid := (v_after ->> 'txid')::xid8;
            after_table := v_after ->> 'table';
            after_id := (v_after ->> 'id')::uuid;
            IF after_txid IS NULL OR after_id IS NULL THEN
                RAISE EXCEPTION 'malformed cursor position';
            END IF;
        END IF;
        IF since IS NOT NULL AND until IS NOT NULL
            AND pg_snapshot_xmax(since) > pg_snapshot_xmax(until) THEN
            RAISE EXCEPTION 'cursor snapshots out of order';
        END IF;
    EXCEPTION WHEN OTHERS THEN
        PERFORM private.raise_error('invalid_input', 'the sync cursor is not valid');
    END;
END;
$$;

-- The synced tables in the order pages merge them (their names in "C" collation), with the
-- column that is each row's id. A page's per-table bounds are arrays indexed by `ord`.
DROP FUNCTION IF EXISTS private.sync_tables();
CREATE OR REPLACE FUNCTION private.sync_tables(OUT ord integer, OUT tbl text, OUT id_column text)
RETURNS SETOF record
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    VALUES (1, 'clip_jobs', 'id'), (2, 'project_overview', 'project_id'), (3, 'scene_drafts', 'id'),
        (4, 'screenplay_sections', 'id'), (5, 'screenplays', 'id')
$$;

-- A page reads each table's rows in (sync_txid, id) order strictly after a lower bound and up
-- to an upper bound, both (sync_txid, id) pairs, so that one row comparison the index
-- (user_id, sync_txid, id) serves directly expresses every case exactly. Relative to a
-- position (table P, transaction x, id y) in (sync_txid, table, id) order, a table T is bounded
-- at (x, max uuid) when T sorts before P, at (x, y) when T is P and at "just before x"
-- (x - 1, max uuid) when T sorts after P: the lower bound of a page is its start position
-- (excluded), the upper bound its last row (included). A page with no start position starts
-- at the cycle's lowest transaction, a position before every table. Transaction id 0 is never
-- assigned, so just before transaction 0 is (0, nil uuid).
--
-- The statements assigning the bounds of every table to v_<p_bounds>_txid and
-- v_<p_bounds>_id from the position held in v_at_table, v_at_txid and v_at_id.
DROP FUNCTION IF EXISTS private.sync_bounds_sql(text);
CREATE OR REPLACE FUNCTION private.sync_bounds_sql(p_bounds text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT format(
        $a$v_before_txid := CASE WHEN v_at_txid = '0'::xid8 THEN v_at_txid
                               ELSE (v_at_txid::text::numeric - 1)::text::xid8 END;
           v_before_id := CASE WHEN v_at_txid = '0'::xid8 THEN c_nil_uuid ELSE c_max_uuid END;
           v_%1$s_txid := ARRAY[%2$s];
           v_%1$s_id := ARRAY[%3$s];$a$,
        p_bounds,
        string_agg(format(
            'CASE WHEN %L COLLATE "C" <= v_at_table THEN v_at_txid ELSE v_before_txid END', tbl
        ), ', ' ORDER BY ord),
        string_agg(format(
            'CASE WHEN %1$L COLLATE "C" < v_at_table THEN c_max_uuid'
            ' WHEN %1$L = v_at_table THEN v_at_id ELSE v_before_id END', tbl
        ), ', ' ORDER BY ord)
    )
    FROM private.sync_tables()
$$;

-- One branch of a page statement: the rows of table `ord` between the page's bounds that are
-- in the cycle, for one user (`user_id = p_user`, which the index leads with) or for all.
-- p_select is the branch's select list and p_upper its upper bound condition (or 'true'), both
-- already quoted by the caller.
DROP FUNCTION IF EXISTS private.sync_page_branch(integer, text, text, boolean, text, text);
CREATE OR REPLACE FUNCTION private.sync_page_branch(
    p_ord integer, p_table text, p_id_column text, p_per_user boolean, p_select text,
    p_upper text
)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT format(
        $b$SELECT %1$s FROM public.%2$I AS t
           WHERE %3$s (t.sync_txid, t.%4$I) > (v_lo_txid[%5$s], v_lo_id[%5$s]) AND %6$s
             AND (((p_since IS NULL OR NOT pg_visible_in_snapshot(t.sync_txid, p_since))
                   AND pg_visible_in_snapshot(t.sync_txid, p_until))
                  OR t.sync_txid = p_own)$b$,
        p_select, p_table, CASE WHEN p_per_user THEN 't.user_id = p_user AND' ELSE '' END,
        p_id_column, p_ord, p_upper
    )
$$;

-- The two statements of a page, for one user or for all: the keys (at most p_limit + 1 of
-- them, each table's next ones from its pull index, merged) give how many rows there are and
-- the page's last row; then each table's rows up to that row are read by the same index and
-- turned into JSON (`json`, built as text) in one aggregate, grouped by table. Each change is
-- a row of the aggregate's input (table, id, version, deleted, row), so the aggregate writes
-- its object directly instead of copying one built per row.
DROP FUNCTION IF EXISTS private.sync_page_statements(boolean);
CREATE OR REPLACE FUNCTION private.sync_page_statements(p_per_user boolean)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT format(
        $s$SELECT coalesce(max(k.n), 0)::integer,
                  (array_agg(k.txid) FILTER (WHERE k.n = least(k.found, p_limit)))[1],
                  (array_agg(k.tbl) FILTER (WHERE k.n = least(k.found, p_limit)))[1],
                  (array_agg(k.id) FILTER (WHERE k.n = least(k.found, p_limit)))[1]
           INTO found_keys, last_txid, last_table, last_id
           FROM (SELECT u.txid, u.tbl, u.id, count(*) OVER () AS found,
                        row_number() OVER (ORDER BY u.txid, u.tbl, u.id) AS n
                 FROM (SELECT * FROM (%s) AS m ORDER BY m.txid, m.tbl, m.id LIMIT p_limit + 1) AS u
                ) AS k;
           IF found_keys = 0 THEN
               changes := '[]'::json;
               RETURN;
           END IF;
           v_at_table := last_table;
           v_at_txid := last_txid;
           v_at_id := last_id;
           %s
           SELECT coalesce(json_agg(r), '[]'::json) INTO changes FROM (%s) AS r;$s$,
        string_agg(
            '(' || private.sync_page_branch(
                ord, tbl, id_column, p_per_user,
                format('sync_txid AS txid, %L::text COLLATE "C" AS tbl, t.%I AS id', tbl, id_column),
                'true'
            ) || format(' ORDER BY t.sync_txid, t.%I LIMIT p_limit + 1)', id_column),
            ' UNION ALL ' ORDER BY ord
        ),
        private.sync_bounds_sql('hi'),
        string_agg(
            private.sync_page_branch(
                ord, tbl, id_column, p_per_user,
                format(
                    '%L::text AS "table", t.%I AS id, t.version,'
                    || ' t.deleted_at IS NOT NULL AS deleted, to_json(t) AS "row"',
                    tbl, id_column
                ),
                format('(t.sync_txid, t.%I) <= (v_hi_txid[%s], v_hi_id[%s])', id_column, ord, ord)
            ),
            ' UNION ALL ' ORDER BY ord
        )
    )
    FROM private.sync_tables()
$$;

-- private.sync_pull_page: one page of a cycle, written from the statements above when the
-- sources are applied, so that its statements are static and PL/pgSQL keeps their plans for
-- the session (a statement run by EXECUTE is planned again at every page).
-- The writers of the page function run only here, as the owner of the sources; no API role
-- may execute them.
DO $build$
BEGIN
    EXECUTE format(
        $f$CREATE OR REPLACE FUNCTION private.sync_pull_page(
               p_user uuid, p_since pg_snapshot, p_until pg_snapshot, p_from xid8,
               p_after_table text, p_after_txid xid8, p_after_id uuid, p_own xid8,
               p_limit integer,
               OUT changes json, OUT found_keys integer, OUT last_txid xid8,
               OUT last_table text, OUT last_id uuid)
           RETURNS record
           LANGUAGE plpgsql
           STABLE
           SET search_path = ''
           SET plan_cache_mode = force_generic_plan
           AS %L$f$,
        format(
            $b$DECLARE
                c_max_uuid CONSTANT uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid;
                c_nil_uuid CONSTANT uuid := '00000000-0000-0000-0000-000000000000'::uuid;
                v_at_table text COLLATE "C" := coalesce(p_after_table, '');
                v_at_txid xid8 := coalesce(p_after_txid, p_from);
                v_at_id uuid := p_after_id;
                v_before_txid xid8;
                v_before_id uuid;
                v_lo_txid xid8[];
                v_lo_id uuid[];
                v_hi_txid xid8[];
                v_hi_id uuid[];
            BEGIN
                %s
                IF p_user IS NULL THEN
                    %s
                ELSE
                    %s
                END IF;
            END;$b$,
            private.sync_bounds_sql('lo'),
            private.sync_page_statements(false), private.sync_page_statements(true)
        )
    );
END;
$build$;

-- Its page statements read each table by its pull index; their plans are kept for the
-- session (see private.sync_pull_page), so they are made with sequential scans off: a plan made
-- while the statistics said a table was empty would otherwise scan the whole table at every
-- later page, however large it grew, until the next ANALYZE.
DROP FUNCTION IF EXISTS public.sync_pull(text, integer);
CREATE OR REPLACE FUNCTION public.sync_pull(p_cursor text DEFAULT NULL, p_limit integer DEFAULT 500)
RETURNS json
LANGUAGE plpgsql
SET search_path = ''
SET enable_seqscan = off
AS $$
DECLARE
    v_cur record;
    v_until pg_snapshot;
    v_page record;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
        PERFORM private.raise_error('invalid_input', 'p_limit must be between 1 and 1000');
    END IF;
    SELECT * INTO v_cur FROM private.sync_decode_cursor(p_cursor);
    -- A new cycle starts with a fresh snapshot; a cycle in progress keeps its own.
    v_until := coalesce(v_cur.until, pg_current_snapshot());
    SELECT * INTO v_page
    FROM private.sync_pull_page(
        auth.uid(), v_cur.since, v_until,
        -- Every transaction below the previous snapshot's xmin was already visible to it.
        coalesce(pg_snapshot_xmin(v_cur.since), '0'::xid8),
        v_cur.after_table, v_cur.after_txid, v_cur.after_id, pg_current_xact_id_if_assigned(),
        p_limit
    );
    IF v_page.found_keys > p_limit THEN
        -- More rows in this cycle: keep the snapshots, remember where this page ended.
        RETURN json_build_object(
            'changes', v_page.changes,
            'cursor', private.sync_encode_cursor(v_cur.since, v_until, jsonb_build_object(
                'txid', v_page.last_txid::text, 'table', v_page.last_table, 'id', v_page.last_id
            )),
            'has_more', true
        );
    END IF;
    -- The cycle is complete: the next pull starts a new one from this cycle's snapshot.
    RETURN json_build_object(
        'changes', v_page.changes,
        'cursor', private.sync_encode_cursor(v_until, NULL, NULL),
        'has_more', false
    );
END;
$$;

REVOKE ALL ON FUNCTION private.sync_encode_cursor(pg_snapshot, pg_snapshot, jsonb) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_decode_cursor(text) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_tables() FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_page_branch(integer, text, text, boolean, text, text)
FROM public, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION private.sync_bounds_sql(text)
FROM public, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION private.sync_page_statements(boolean)
FROM public, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION private.sync_pull_page(
    uuid, pg_snapshot, pg_snapshot, xid8, text, xid8, uuid, xid8, integer
) FROM public, anon;
REVOKE ALL ON FUNCTION public.sync_pull(text, integer) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.sync_encode_cursor(pg_snapshot, pg_snapshot, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_decode_cursor(text)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_tables()
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_pull_page(
    uuid, pg_snapshot, pg_snapshot, xid8, text, xid8, uuid, xid8, integer
)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.sync_pull(text, integer)
TO authenticated, service_role;
