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

DROP FUNCTION IF EXISTS public.sync_pull(text, integer);
CREATE OR REPLACE FUNCTION public.sync_pull(p_cursor text DEFAULT NULL, p_limit integer DEFAULT 500)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    -- (table, id column); the order does not matter, pages are sorted on (sync_txid, table, id).
    c_tables constant text[][] := ARRAY[
        ['project_overview', 'project_id'],
        ['scene_drafts', 'id'],
        ['screenplays', 'id'],
        ['screenplay_sections', 'id'],
        ['clip_jobs', 'id']
    ];
    v_cur record;
    v_user uuid := auth.uid();
    v_until pg_snapshot;
    v_low xid8;
    v_branches text[] := ARRAY[]::text[];
    v_sql text;
    v_changes jsonb;
    v_count integer;
    v_last jsonb;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
        PERFORM private.raise_error('invalid_input', 'p_limit must be between 1 and 1000');
    END IF;
    SELECT * INTO v_cur FROM private.sync_decode_cursor(p_cursor);
    -- A new cycle starts with a fresh snapshot; a cycle in progress keeps its own.
    v_until := coalesce(v_cur.until, pg_current_snapshot());
    -- Every transaction below the previous snapshot's xmin was already visible to it.
    v_low := coalesce(pg_snapshot_xmin(v_cur.since), '0'::xid8);

    FOR i IN 1 .. array_length(c_tables, 1) LOOP
        v_branches := v_branches || format(
            $q$(SELECT t.sync_txid AS txid, %1$L::text COLLATE "C" AS tbl, t.%2$I AS id,
                       jsonb_build_object(
                           'table', %1$L::text, 'id', t.%2$I, 'version', t.version,
                           'deleted', t.deleted_at IS NOT NULL, 'row', to_jsonb(t)) AS change
                FROM public.%1$I AS t
                WHERE %3$s t.sync_txid >= $1
                  AND ((%4$s pg_visible_in_snapshot(t.sync_txid, $3)) OR t.sync_txid = $9)
                  AND %5$s
                ORDER BY t.sync_txid, t.%2$I
                LIMIT $7)$q$,
            c_tables[i][1],
            c_tables[i][2],
            CASE WHEN v_user IS NOT NULL THEN 't.user_id = $8 AND' ELSE '' END,
            CASE
                WHEN v_cur.since IS NOT NULL THEN 'NOT pg_visible_in_snapshot(t.sync_txid, $2) AND'
                ELSE ''
            END,
            CASE
                WHEN v_cur.after_txid IS NOT NULL THEN format(
                    $c$t.sync_txid >= $4
                       AND (t.sync_txid, %1$L::text COLLATE "C", t.%2$I) > ($4, $5, $6)$c$,
                    c_tables[i][1], c_tables[i][2])
                ELSE 'true'
            END
        );
    END LOOP;

    v_sql := format(
        $q$SELECT coalesce(jsonb_agg(c.change ORDER BY c.txid, c.tbl, c.id), '[]'::jsonb),
                  count(*)::integer
           FROM (SELECT * FROM (%s) AS u ORDER BY u.txid, u.tbl, u.id LIMIT $7) AS c$q$,
        array_to_string(v_branches, ' UNION ALL ')
    );
    EXECUTE v_sql
    INTO v_changes, v_count
    USING v_low, v_cur.since, v_until, v_cur.after_txid,
        v_cur.after_table COLLATE "C", v_cur.after_id, p_limit + 1, v_user,
        pg_current_xact_id_if_assigned();

    IF v_count > p_limit THEN
        -- More rows in this cycle: keep the snapshots, remember where this page ended.
        v_changes := v_changes - p_limit;
        v_last := v_changes -> (p_limit - 1);
        RETURN jsonb_build_object(
            'changes', v_changes,
            'cursor', private.sync_encode_cursor(
                v_cur.since, v_until,
                jsonb_build_object(
                    'txid', v_last -> 'row' ->> 'sync_txid',
                    'table', v_last ->> 'table',
                    'id', v_last ->> 'id')),
            'has_more', true
        );
    END IF;
    -- The cycle is complete: the next pull starts a new one from this cycle's snapshot.
    RETURN jsonb_build_object(
        'changes', v_changes,
        'cursor', private.sync_encode_cursor(v_until, NULL, NULL),
        'has_more', false
    );
END;
$$;

REVOKE ALL ON FUNCTION private.sync_encode_cursor(pg_snapshot, pg_snapshot, jsonb)
FROM public, anon;
REVOKE ALL ON FUNCTION private.sync_decode_cursor(text) FROM public, anon;
REVOKE ALL ON FUNCTION public.sync_pull(text, integer) FROM public, anon;
GRANT EXECUTE ON FUNCTION private.sync_encode_cursor(pg_snapshot, pg_snapshot, jsonb)
TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION private.sync_decode_cursor(text) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.sync_pull(text, integer) TO authenticated, service_role;
