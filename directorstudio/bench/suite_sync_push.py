"""``sync_push`` inside the database: the client's replay workload without the client.

Batches of ``MAX_PUSH_BATCH`` mutations (per project a create, six scenes, an edit rebased on
its create, a reorder and a delete), next to one ``sync_push`` call per mutation and to raw
multi-row INSERT/UPDATE of the same rows on the same tables with the same triggers, on a database
that also holds (and has analyzed) other users' rows.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import psycopg

from directorstudio.bench.database import durable_database, populate
from directorstudio.bench.model import BenchOptions, Row, at_least, info, repeat
from directorstudio.bench.suite_client_sync import MUTATIONS_PER_PROJECT, raw_write_rate
from directorstudio.contracts.sync import MAX_PUSH_BATCH
from directorstudio.db.context import claims_for_user, request_transaction

NAME = "sync_push"
SCENES = MUTATIONS_PER_PROJECT - 4


def replay_work(projects: int) -> list[dict[str, Any]]:
    """The mutations a client queues offline for ``projects`` projects, in outbox order."""
    mutations: list[dict[str, Any]] = []

    def add(table: str, op: str, row: str, args: dict[str, Any], **extra: Any) -> int:
        mutations.append({"mutation_id": len(mutations) + 1, "table": table, "op": op,
                          "id": row, "args": args, **extra})  # fmt: skip
        return len(mutations)

    for _ in range(projects):
        project = str(uuid.uuid4())
        add("project_overview", "upsert", project, {"title": "Replayed"})
        # Numbered as the client numbers its new scenes (after the ones it has).
        scenes = [(s, add("scene_drafts", "create", s, {"project_id": project,
                   "prompt_text": "Scene", "duration": 2.0, "order_index": k}))
                  for k, s in enumerate(str(uuid.uuid4()) for _ in range(SCENES))]  # fmt: skip
        add("scene_drafts", "update", scenes[0][0], {"patch": {"prompt_text": "Edited"}},
            base_version=None, base_mutation_id=scenes[0][1])  # fmt: skip
        add("scene_drafts", "reorder", project,
            {"project_id": project, "ordered_ids": [s for s, _ in reversed(scenes)]})  # fmt: skip
        add("scene_drafts", "delete", scenes[-1][0], {}, base_mutation_id=scenes[-1][1])
    return mutations


def push_rate(url: str, user: str, mutations: list[dict[str, Any]], batch: int) -> float:
    """Mutations per second through ``sync_push`` in batches of ``batch``, one request
    transaction each, every mutation applied."""
    client = str(uuid.uuid4())
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for at in range(0, len(mutations), batch):
            with request_transaction(conn, "authenticated", claims_for_user(user)):
                answer = conn.execute(
                    "SELECT public.sync_push(%s, %s::jsonb)",
                    (client, json.dumps(mutations[at : at + batch])),
                ).fetchone()
            assert answer is not None
            outcomes = {r["outcome"] for r in answer[0]["results"]}
            if outcomes != {"applied"}:
                raise RuntimeError(f"the replay did not apply every mutation: {outcomes}")
        return len(mutations) / (time.perf_counter() - started)


class SyncPushSuite:
    """Server-side replay of the outbox workload."""

    name = NAME

    def run(self, options: BenchOptions) -> list[Row]:
        projects, single = (20, 5) if options.quick else (1000, 30)
        with durable_database() as url:
            with psycopg.connect(url, autocommit=True) as conn:
                # Other users' rows, analyzed, as in a database in service: the planner then
                # knows that one user's rows are few (on a fresh single-user database its
                # estimates make every lookup scan the user's rows).
                populate(conn, 5 if options.quick else 50)
                row = conn.execute(
                    "INSERT INTO auth.users (id, email) VALUES (gen_random_uuid(), %s)"
                    " RETURNING id",
                    (f"push-{uuid.uuid4()}@example.com",),
                ).fetchone()
            assert row is not None
            user = str(row[0])
            batched = repeat(
                lambda: push_rate(url, user, replay_work(projects), MAX_PUSH_BATCH),
                options.repetitions,
            )
            one_each = repeat(
                lambda: push_rate(url, user, replay_work(single), 1), options.repetitions
            )
            mutations = projects * MUTATIONS_PER_PROJECT
            raw = repeat(
                lambda: raw_write_rate(url, user, mutations, "public.project_overview",
                                       "public.scene_drafts"), options.repetitions,
            )  # fmt: skip
            # What the push cannot go below: the same writes and its exactly-once records, in
            # transactions of one push batch each.
            floor = repeat(
                lambda: raw_write_rate(url, user, mutations, "public.project_overview",
                                       "public.scene_drafts", per_transaction=MAX_PUSH_BATCH,
                                       records=True), options.repetitions,
            )  # fmt: skip
        return [
            at_least(
                NAME, f"sync_push of {mutations} mutations in batches", "mut/s", batched, 5000,
                baseline="one sync_push per mutation", baseline_values=one_each, min_ratio=20,
            ),
            at_least(
                NAME, "sync_push vs raw multi-row writes", "mut/s", batched, None,
                baseline="raw INSERT/UPDATE, same triggers", baseline_values=raw, min_ratio=0.5,
            ),
            info(
                NAME, f"raw writes and their records, in transactions of {MAX_PUSH_BATCH}",
                "mut/s", floor, baseline="raw INSERT/UPDATE, same triggers", baseline_values=raw,
            ),
        ]  # fmt: skip


SUITE = SyncPushSuite()
