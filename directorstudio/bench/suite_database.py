"""Latency of the hot rpc paths through PostgREST's request context.

A durable throwaway PostgreSQL filled with other users' rows; each contract call is timed as the
API runs it (role and JWT claims in one transaction). The list calls stand next to a raw SELECT
of the same rows by the table owner. Targets (p95) derive from the specification's SLAs:
create-to-confirm median < 3 s end to end leaves the database a small share; list and pull are on
the screen-render path.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Json

from directorstudio.bench.database import (
    Call,
    durable_database,
    populate,
    threaded,
    timed_as_owner,
    timed_as_user,
)
from directorstudio.bench.model import BenchOptions, Row, at_most, p95, repeat

NAME = "database"

TARGETS_MS = {
    "list_project_overviews": 20.0,
    "list_scene_drafts": 20.0,
    "create_scene_draft": 25.0,
    "update_scene_draft": 25.0,
    "enqueue_clip_job (8 threads)": 50.0,
    "sync_pull (500-row page)": 100.0,
    "sync_push (20 mutations)": 150.0,
    "batch_upsert_telemetry (50 events)": 30.0,
}


def _row(
    metric: str, runs: list[list[float]], baseline: tuple[str, list[list[float]]] | None = None
) -> Row:
    return at_most(
        NAME,
        f"{metric} p95",
        "ms",
        [p95(run) for run in runs],
        TARGETS_MS[metric],
        p95_of=[sample for run in runs for sample in run],
        baseline=baseline[0] if baseline else None,
        baseline_values=[p95(run) for run in baseline[1]] if baseline else None,
    )


def _push(client_id: uuid.UUID, project: uuid.UUID) -> Call:
    def push(conn: psycopg.Connection[Any], i: int) -> object:
        mutations = [
            {
                "mutation_id": i * 20 + k + 1,
                "table": "scene_drafts",
                "op": "create",
                "id": str(uuid.uuid4()),
                "base_version": None,
                "args": {"project_id": str(project), "prompt_text": "Pushed", "duration": 2},
            }
            for k in range(20)
        ]
        return conn.execute("SELECT public.sync_push(%s, %s::jsonb)", (client_id, Json(mutations)))

    return push


def _telemetry(conn: psycopg.Connection[Any], i: int) -> object:
    events = [{"element": f"element-{k}", "attempts": 2, "successes": 1} for k in range(50)]
    return conn.execute(
        "SELECT public.batch_upsert_telemetry(%s, %s::jsonb)", (uuid.uuid4(), Json(events))
    )


class DatabaseSuite:
    """The eight hot contract calls, each a median of repetitions of its p95."""

    name = NAME

    def run(self, options: BenchOptions) -> list[Row]:
        users, rounds = (8, 30) if options.quick else (50, 200)
        with durable_database() as url:
            with psycopg.connect(url, autocommit=True) as admin:
                pairs = populate(admin, users)
            user, project = pairs[0]

            def runs(measure: Callable[[], list[float]]) -> list[list[float]]:
                return repeat(measure, options.repetitions)

            def as_user(call: Call, count: int = rounds) -> list[list[float]]:
                return runs(lambda: timed_as_user(url, user, count, call))

            def as_owner(call: Call) -> list[list[float]]:
                return runs(lambda: timed_as_owner(url, rounds, call))

            rows = [
                _row(
                    "list_project_overviews",
                    as_user(
                        lambda c, i: c.execute(
                            "SELECT * FROM public.list_project_overviews()"
                        ).fetchall()
                    ),
                    (
                        "raw SELECT",
                        as_owner(
                            lambda c, i: c.execute(
                                "SELECT * FROM public.project_overview WHERE user_id = %s",
                                (user,),
                            ).fetchall()
                        ),
                    ),
                ),
                _row(
                    "list_scene_drafts",
                    as_user(
                        lambda c, i: c.execute(
                            "SELECT * FROM public.list_scene_drafts(%s)", (project,)
                        ).fetchall()
                    ),
                    (
                        "raw SELECT",
                        as_owner(
                            lambda c, i: c.execute(
                                "SELECT * FROM public.scene_drafts WHERE project_id = %s"
                                " ORDER BY order_index",
                                (project,),
                            ).fetchall()
                        ),
                    ),
                ),
            ]
            rows.extend(self._writes(url, user, project, rounds, options))
        return rows

    def _writes(
        self, url: str, user: uuid.UUID, project: uuid.UUID, rounds: int, options: BenchOptions
    ) -> list[Row]:
        def runs(measure: Callable[[], list[float]]) -> list[list[float]]:
            return repeat(measure, options.repetitions)

        created: list[uuid.UUID] = []

        def create(conn: psycopg.Connection[Any], i: int) -> object:
            scene = uuid.uuid4()
            created.append(scene)
            return conn.execute(
                "SELECT public.create_scene_draft(%s, %s, 'Bench scene', 2.0)", (scene, project)
            )

        def update(conn: psycopg.Connection[Any], i: int) -> object:
            scene = created[i % len(created)]
            return conn.execute(
                "SELECT public.update_scene_draft(%s, version, jsonb_build_object("
                "'prompt_text', 'Edit ' || %s::text)) FROM public.scene_drafts WHERE id = %s",
                (scene, i, scene),
            )

        def enqueue(conn: psycopg.Connection[Any], i: int) -> object:
            return conn.execute(
                "SELECT public.enqueue_clip_job(%s, auth.uid()::text, 'Bench clip')",
                (uuid.uuid4(),),
            )

        def pull(conn: psycopg.Connection[Any], i: int) -> object:
            return conn.execute("SELECT public.sync_pull(NULL, 500)").fetchone()

        with psycopg.connect(url) as conn:
            workers = [
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT user_id FROM public.project_overview LIMIT 8"
                ).fetchall()
            ]
        few = max(rounds // 10, 20)
        return [
            _row("create_scene_draft", runs(lambda: timed_as_user(url, user, rounds, create))),
            _row("update_scene_draft", runs(lambda: timed_as_user(url, user, rounds, update))),
            _row(
                "enqueue_clip_job (8 threads)",
                runs(lambda: threaded(url, workers, max(rounds // 4, 5), enqueue)),
            ),
            _row("sync_pull (500-row page)", runs(lambda: timed_as_user(url, user, few, pull))),
            _row(
                "sync_push (20 mutations)",
                runs(lambda: timed_as_user(url, user, few, _push(uuid.uuid4(), project))),
            ),
            _row(
                "batch_upsert_telemetry (50 events)",
                runs(lambda: timed_as_user(url, user, rounds, _telemetry)),
            ),
        ]


SUITE = DatabaseSuite()
