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
                OR v_after ->> 'table' NOT IN (
                    'clip_jobs', 'project_overview', 'scene_drafts', 'screenplay_sections',
                    'screenplays'
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

-- The part of a branch's condition that starts it after the cursor's position
-- (p_after_txid, p_after_table, p_after_id) = ($4, $5, $6) in (sync_txid, table, id) order. The
-- table is fixed per branch, so it becomes one of three conditions the index
-- (user_id, sync_txid, id) serves directly: tables sorting before the position's table continue
-- after its transaction, its own table after the row, later tables from the transaction on.
DROP FUNCTION IF EXISTS private.sync_after_position(text, text, text);
CREATE OR REPLACE FUNCTION private.sync_after_position(
    p_table text, p_id_column text, p_after_table text
)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT CASE
        WHEN p_after_table IS NULL THEN 'true'
        WHEN p_table COLLATE "C" < p_after_table COLLATE "C" THEN 't.sync_txid > $4'
        WHEN p_table = p_after_table THEN format('(t.sync_txid, t.%I) > ($4, $6)', p_id_column)
        ELSE 't.sync_txid >= $4'
    END
$$;

-- The statement that reads one page. Parameters: $1 the lowest transaction id of the cycle,
-- $2 `since`, $3 `until`, $4..$6 the position, $7 the page size plus one, $8 the user, $9 the
-- pulling transaction's own id, $10 the page size. It first picks the page's keys from the
-- pull indexes (each table's next $7 keys in (sync_txid, id) order, merged), then builds the
-- JSON of those rows only, and answers (changes, number of keys found, position of the page's
-- last row).
DROP FUNCTION IF EXISTS private.sync_page_sql(boolean, boolean, text);
CREATE OR REPLACE FUNCTION private.sync_page_sql(
    p_per_user boolean, p_has_since boolean, p_after_table text
)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    WITH tables (tbl, id_column) AS (
        VALUES ('project_overview', 'project_id'), ('scene_drafts', 'id'),
            ('screenplays', 'id'), ('screenplay_sections', 'id'), ('clip_jobs', 'id')
    )
    SELECT format(
        $q$WITH page AS MATERIALIZED (
               SELECT u.txid, u.tbl, u.id, row_number() OVER (ORDER BY u.txid, u.tbl, u.id) AS n
               FROM (%s) AS u ORDER BY u.txid, u.tbl, u.id LIMIT $7),
           rows AS (%s)
           SELECT (SELECT coalesce(json_agg(r.change ORDER BY r.n), '[]'::json) FROM rows AS r),
                  (SELECT count(*)::integer FROM page),
                  (SELECT jsonb_build_object('txid', p.txid::text, 'table', p.tbl, 'id', p.id)
                   FROM page AS p WHERE p.n = $10)$q$,
        string_agg(format(
            $k$(SELECT t.sync_txid AS txid, %1$L::text COLLATE "C" AS tbl, t.%2$I AS id
                FROM public.%1$I AS t
                WHERE %3$s t.sync_txid >= $1
                  AND ((%4$s pg_visible_in_snapshot(t.sync_txid, $3)) OR t.sync_txid = $9)
                  AND %5$s
                ORDER BY t.sync_txid, t.%2$I LIMIT $7)$k$,
            tbl, id_column,
            CASE WHEN p_per_user THEN 't.user_id = $8 AND' ELSE '' END,
            CASE WHEN p_has_since THEN 'NOT pg_visible_in_snapshot(t.sync_txid, $2) AND' ELSE '' END,
            private.sync_after_position(tbl, id_column, p_after_table)
        ), ' UNION ALL '),
        string_agg(format(
            $r$SELECT p.n, json_build_object('table', %1$L::text, 'id', t.%2$I,
                   'version', t.version, 'deleted', t.deleted_at IS NOT NULL, 'row', to_json(t))
                   AS change
               FROM page AS p JOIN public.%1$I AS t ON t.%2$I = p.id
               WHERE p.tbl = %1$L AND p.n <= $10$r$,
            tbl, id_column
        ), ' UNION ALL ')
    )
    FROM tables
$$;

DROP FUNCTION IF EXISTS public.sync_pull(text, integer);
CREATE OR REPLACE FUNCTION public.sync_pull(p_cursor text DEFAULT NULL, p_limit integer DEFAULT 500)
RETURNS json
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_cur record;
    v_user uuid := auth.uid();
    v_until pg_snapshot;
    v_changes json;
    v_found integer;
    v_last jsonb;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
        PERFORM private.raise_error('invalid_input', 'p_limit must be between 1 and 1000');
    END IF;
    SELECT * INTO v_cur FROM private.sync_decode_cursor(p_cursor);
    -- A new cycle starts with a fresh snapshot; a cycle in progress keeps its own.
    v_until := coalesce(v_cur.until, pg_current_snapshot());
    EXECUTE private.sync_page_sql(
        v_user IS NOT NULL, v_cur.since IS NOT NULL, v_cur.after_table
    )
    INTO v_changes, v_found, v_last
    USING
        -- Every transaction below the previous snapshot's xmin was already visible to it.
        coalesce(pg_snapshot_xmin(v_cur.since), '0'::xid8),
        v_cur.since, v_until, v_cur.after_txid, v_cur.after_table COLLATE "C", v_cur.after_id,
        p_limit + 1, v_user, pg_current_xact_id_if_assigned(), p_limit;
    IF v_found > p_limit THEN
        -- More rows in this cycle: keep the snapshots, remember where this page ended.
        RETURN json_build_object(
            'changes', v_changes,
            'cursor', private.sync_encode_cursor(v_cur.since, v_until, v_last),
            'has_more', true
        );
    END IF;
    -- The cycle is complete: the next pull starts a new one from this cycle's snapshot.
    RETURN json_build_object(
        'changes', v_changes,
        'cursor', private.sync_encode_cursor(v_until, NULL, NULL),
        'has_more', false
    );
END;
$$;

REVOKE ALL ON FUNCTION private.sync_encode_cursor(pg_snapshot, pg_snapshot, jsonb)
FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_decode_cursor(text) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_after_position(text, text, text) FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_page_sql(boolean, boolean, text) FROM public, anon;
REVOKE ALL ON FUNCTION public.sync_pull(text, integer) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.sync_encode_cursor(pg_snapshot, pg_snapshot, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_decode_cursor(text) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_after_position(text, text, text)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_page_sql(boolean, boolean, text)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.sync_pull(text, integer) TO authenticated, service_role;
