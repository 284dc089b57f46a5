"""The chaos run: seeded operations on several clients, faults, restarts and a client kill.

One thread drives everything (operations, sync rounds, restarts), so the requests reach the
fault proxy in a fixed order and a seed replays the same operations and the same faults. Every
wait is bounded: sync rounds by count, processes and held requests by a timeout.
"""

from __future__ import annotations

import os
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.db.context import request_transaction
from tests.py.chaos.actions import Device, apply_op, open_device
from tests.py.chaos.client_process import ClientProcess
from tests.py.chaos.oracle import Oracle
from tests.support.chaos_stack import ChaosStack

KINDS = {
    "create_project": 6,
    "rename_project": 12,
    "duplicate_project": 3,
    "create_scene": 20,
    "edit_scene": 22,
    "reorder_scenes": 8,
    "delete_scene": 8,
    "submit_clip": 8,
    "cancel_clip": 5,
}
GRANT = 10_000
SETTLE_ROUNDS = 40
EVENT_PERIOD = 1000
TRIES = 3


@dataclass(frozen=True)
class ChaosSettings:
    """Sizes and seed, from the environment (CHAOS_SEED, CHAOS_CLIENTS, CHAOS_OPS)."""

    seed: int
    clients: int
    ops_per_client: int

    @classmethod
    def from_env(cls) -> ChaosSettings:
        return cls(
            seed=int(os.environ.get("CHAOS_SEED", "20261201")),
            clients=max(2, int(os.environ.get("CHAOS_CLIENTS", "4"))),
            ops_per_client=max(10, int(os.environ.get("CHAOS_OPS", "100"))),
        )

    def replay(self) -> str:
        return (
            f"CHAOS_SEED={self.seed} CHAOS_CLIENTS={self.clients} CHAOS_OPS={self.ops_per_client}"
            " .venv/bin/python -m pytest tests/py/chaos -x -q"
        )


@dataclass
class ChaosRun:
    """State of one run: devices, the oracle, counters and violations found."""

    stack: ChaosStack
    settings: ChaosSettings
    work: Path
    rng: random.Random = field(init=False)
    oracle: Oracle = field(default_factory=Oracle)
    devices: list[Device] = field(default_factory=list)
    stats: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    processes: list[ClientProcess] = field(default_factory=list)
    _step: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.settings.seed)

    # --- setup ------------------------------------------------------------------------------------
    def open_devices(self) -> None:
        """Two devices per user (the last user may have one), each with its own cache."""
        self.stack.proxy.enabled = False
        for index in range(self.settings.clients):
            user = index // 2
            email = f"chaos-user-{user}@example.test"
            device = open_device(
                f"device-{index}", self.stack.url, self.stack.keys.anon_key, email,
                self.work / f"device-{index}.db", client_id=self._uuid(),
                seed=self.settings.seed + index, sign_up=index % 2 == 0,
            )  # fmt: skip
            self.devices.append(device)
            if index % 2 == 0:
                self._grant(device.user_id)
        self.stack.proxy.enabled = True

    def _grant(self, user_id: str) -> None:
        with (
            self.stack.admin() as conn,
            request_transaction(conn, "service_role", {"role": "service_role"}),
        ):
            conn.execute(
                "SELECT public.grant_credits(%s, %s, %s, %s::uuid, %s)",
                (user_id, GRANT, f"chaos-grant:{user_id}", user_id, "chaos"),
            )
        self.oracle.user(user_id).granted += GRANT

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _next_step(self) -> int:
        self._step += 1
        return self._step

    # --- the operations ---------------------------------------------------------------------------
    def run(self) -> None:
        total = self.settings.clients * self.settings.ops_per_client
        period = min(total, EVENT_PERIOD)  # each period has one restart of each kind and a kill
        events = {
            int(period * 0.3): self.restart_gateway,
            int(period * 0.55): self.restart_database,
            int(period * 0.8): self.kill_client_mid_push,
        }
        kinds, weights = list(KINDS), list(KINDS.values())
        for index in range(total):
            if index % period in events:
                events[index % period]()
            device = self.rng.choice(self.devices)
            kind = self.rng.choices(kinds, weights)[0]
            op = self.build(kind, device) or self.build("create_scene", device)
            op = op or self.build("create_project", device)
            assert op is not None
            self.apply(device, op)
            if self.rng.random() < 0.35:
                self.sync(device)
            if self.rng.random() < 0.15:
                self.sync(self.rng.choice(self.devices))

    def _projects(self, device: Device, *, originals: bool = False) -> list[str]:
        known = self.oracle.user(device.user_id).projects
        visible = {p["project_id"] for p in device.storage.get_project_overviews(device.user_id)}
        return sorted(p for p in visible if p in known and not (originals and known[p] is not None))

    def _scenes(self, device: Device, project_id: str) -> list[dict[str, Any]]:
        known = self.oracle.user(device.user_id).scenes
        return [s for s in device.storage.get_scene_drafts(project_id) if s["id"] in known]

    def build(self, kind: str, device: Device) -> dict[str, Any] | None:
        """An operation of ``kind`` on what ``device`` sees; None when it sees nothing fit."""
        step = self._next_step()
        projects = self._projects(device)
        if kind == "create_project":
            return {"kind": kind, "id": self._uuid(), "title": f"project-{step}"}
        if kind == "create_scene" and projects:
            return {
                "kind": kind, "id": self._uuid(), "project_id": self.rng.choice(projects),
                "prompt_text": f"prompt-{step}", "duration": round(1 + step / 1000, 3),
            }  # fmt: skip
        if kind in ("rename_project", "duplicate_project", "submit_clip") and projects:
            project = self.rng.choice(projects)
            if kind == "rename_project":
                return {"kind": kind, "id": project, "title": f"rename-{step}"}
            if kind == "duplicate_project":
                return {"kind": kind, "id": self._uuid(), "source": project, "title": f"dup-{step}"}
            return {"kind": kind, "id": self._uuid(), "project_id": project, "prompt": f"c{step}"}
        if kind in ("edit_scene", "delete_scene"):
            scenes = [s["id"] for s in self._some_scenes(device, projects)]
            if not scenes:
                return None
            scene = self.rng.choice(scenes)
            if kind == "delete_scene":
                return {"kind": kind, "id": scene}
            patch: dict[str, Any] = {}
            if self.rng.random() < 0.7:
                patch["prompt_text"] = f"edit-{step}"
            if not patch or self.rng.random() < 0.5:
                patch["duration"] = round(1 + step / 1000, 3)
            return {"kind": kind, "id": scene, "patch": patch}
        if kind == "reorder_scenes":
            return self._reorder(device)
        if kind == "cancel_clip":
            known = self.oracle.user(device.user_id).jobs
            jobs = sorted(
                j["id"]
                for j in device.storage.get_clip_jobs(device.user_id)
                if j["id"] in known and j.get("status") == "queued"
            )
            return {"kind": kind, "id": self.rng.choice(jobs)} if jobs else None
        return None

    def _some_scenes(self, device: Device, projects: list[str]) -> list[dict[str, Any]]:
        """The known scenes of a random project that has some (a few tries: reading every
        project's scenes for every operation would make the run quadratic)."""
        for _ in range(TRIES):
            if not projects:
                break
            scenes = self._scenes(device, self.rng.choice(projects))
            if scenes:
                return scenes
        return []

    def _reorder(self, device: Device) -> dict[str, Any] | None:
        """A shuffle of an original project's scenes, when the device knows all of them."""
        projects = self._projects(device, originals=True)
        for _ in range(TRIES if projects else 0):
            project = self.rng.choice(projects)
            scenes = [s["id"] for s in device.storage.get_scene_drafts(project)]
            known = self.oracle.user(device.user_id).scenes
            if len(scenes) >= 2 and all(s in known for s in scenes):
                self.rng.shuffle(scenes)
                return {"kind": "reorder_scenes", "project_id": project, "ordered_ids": scenes}
        return None

    def apply(self, device: Device, op: dict[str, Any], *, writer: str | None = None) -> None:
        """Apply ``op`` on ``device`` and record it; ``writer`` names another process that
        applies it for ``device``'s user."""
        step = self._step
        if writer is None:
            try:
                apply_op(device.sync, op)
            except DirectorStudioError as error:
                self.violations.append(f"step {step} {device.name} {op}: refused locally: {error}")
                return
        self.oracle.record(step, writer or device.name, op)
        self._expect(device.user_id, writer or device.name, step, op)

    def _expect(self, user_id: str, writer: str, step: int, op: dict[str, Any]) -> None:
        user, kind = self.oracle.user(user_id), op["kind"]
        if kind in ("create_project", "duplicate_project"):
            user.projects[op["id"]] = op.get("source")
        if kind in ("create_project", "rename_project", "duplicate_project"):
            self.oracle.wrote(step, writer, "project_overview", op["id"], {"title": op["title"]})
        elif kind == "create_scene":
            user.scenes[op["id"]] = op["project_id"]
            values = {"prompt_text": op["prompt_text"], "duration": op["duration"]}
            self.oracle.wrote(step, writer, "scene_drafts", op["id"], values)
        elif kind == "edit_scene":
            self.oracle.wrote(step, writer, "scene_drafts", op["id"], op["patch"])
        elif kind == "delete_scene":
            user.deleted_scenes.add(op["id"])
        elif kind == "submit_clip":
            user.jobs[op["id"]] = op["project_id"]
        elif kind == "cancel_clip":
            user.canceled_jobs.add(op["id"])

    # --- sync rounds, conflicts and dead letters --------------------------------------------------
    def sync(self, device: Device, *, advance: float | None = None, force: bool = False) -> Any:
        device.clock.advance(self.rng.uniform(1.0, 12.0) if advance is None else advance)
        report = device.sync.run_once(force_pull=force)
        self.stats["sync_rounds"] += 1
        self.resolve_conflicts(device)
        self.settle_dead_letters(device)
        return report

    def resolve_conflicts(self, device: Device) -> None:
        for conflict in device.sync.conflicts():
            choices: dict[str, str] = {}
            self._check_conflict(device, conflict)
            for name in conflict.diff_fields:
                local, remote = conflict.local.get(name), conflict.remote.get(name)
                try:
                    choices[name] = self.oracle.choose(
                        conflict.table, conflict.id, name, local, remote
                    )
                except LookupError as error:
                    self.violations.append(
                        f"{device.name}: conflict on a value never written: {error}"
                    )
                    choices[name] = "remote"
            device.sync.resolve_conflict(conflict.conflict_id, "merge", choices)
            self.stats["conflicts_resolved"] += 1

    def _check_conflict(self, device: Device, conflict: Any) -> None:
        """A conflict must oppose another writer's value: a device's own write coming back
        before its acknowledgement is not a concurrent change."""
        writers = {
            self.oracle.writer_of(conflict.table, conflict.id, name, conflict.remote.get(name))
            for name in conflict.diff_fields
        }
        if writers == {device.name}:
            self.violations.append(
                f"{device.name}: conflict on {conflict.table} {conflict.id} {conflict.diff_fields}"
                f" against its own write {[conflict.remote.get(n) for n in conflict.diff_fields]}"
            )

    def settle_dead_letters(self, device: Device) -> None:
        """Explained dead letters (the op was invalid by the time it arrived) are discarded, as
        a user would; any other is a violation."""
        deleted = self.oracle.user(device.user_id).deleted_scenes
        for entry in device.sync.health().dead_entries:
            code = (entry.last_error or {}).get("code")
            stale_order = entry.op == "reorder" and code == "stale_order"
            scene_gone = (
                entry.table == "scene_drafts" and code == "not_found" and entry.row_id in deleted
            )
            if stale_order or scene_gone:
                self.stats[f"dead_letters_explained:{code}"] += 1
            else:
                self.violations.append(
                    f"{device.name}: dead letter {entry.table}.{entry.op} {entry.row_id} "
                    f"{entry.args}: {entry.last_error}"
                )
            device.sync.discard_dead(entry.entry_id)

    # --- restarts and the kill --------------------------------------------------------------------
    def _sync_some(self) -> None:
        for device in self.rng.sample(self.devices, min(2, len(self.devices))):
            self.sync(device)

    def restart_gateway(self) -> None:
        self.stack.stop_gateway()
        self._sync_some()  # clients meet a 503 from the proxy: nothing behind it answers
        self.stack.start_gateway()
        self.stack.restarts["gateway"] += 1

    def restart_database(self) -> None:
        self.stack.stop_database()
        self._sync_some()  # the gateway cannot reach PostgreSQL
        self.stack.start_database()

    def kill_client_mid_push(self) -> None:
        """A client in its own process writes, is killed while its push is in flight (after
        the server answered), and restarts from the same cache."""
        name = f"subprocess-{len(self.processes)}"
        owner = self.devices[(2 * len(self.processes)) % len(self.devices)]
        ops = self._subprocess_ops(owner, name)
        spec = {
            "url": self.stack.url, "anon_key": self.stack.keys.anon_key, "email": owner.email,
            "cache": str(self.work / f"{name}.db"), "client_id": self._uuid(),
            "seed": self.settings.seed, "ops": ops,
        }  # fmt: skip
        process = ClientProcess(name, self.work, owner.user_id, spec["client_id"], spec)
        self.processes.append(process)
        self._violation(process.kill_mid_push(self.stack.proxy))
        self.stats["client_kills"] += 1
        self._violation(process.run("settle"))

    def _violation(self, found: str | None) -> None:
        if found is not None:
            self.violations.append(found)

    def _subprocess_ops(self, owner: Device, name: str) -> list[dict[str, Any]]:
        project = self._uuid()
        ops: list[dict[str, Any]] = []

        def add(op: dict[str, Any]) -> None:
            ops.append(op)
            self.apply(owner, op, writer=name)

        # Creates first, edits last: the first push carries most of them in one batch.
        add({"kind": "create_project", "id": project, "title": f"project-{self._next_step()}"})
        scenes = [self._uuid() for _ in range(3)]
        for scene in scenes:
            step = self._next_step()
            add({
                "kind": "create_scene", "id": scene, "project_id": project,
                "prompt_text": f"prompt-{step}", "duration": round(1 + step / 1000, 3),
            })  # fmt: skip
        jobs = [self._uuid(), self._uuid()]
        for job in jobs:
            add({"kind": "submit_clip", "id": job, "project_id": project, "prompt": "subprocess"})
        add({"kind": "cancel_clip", "id": jobs[0]})
        add({"kind": "delete_scene", "id": scenes[1]})
        edit = {"prompt_text": f"edit-{self._next_step()}"}
        add({"kind": "edit_scene", "id": scenes[0], "patch": edit})
        add({"kind": "rename_project", "id": project, "title": f"rename-{self._next_step()}"})
        return ops

    # --- the end ----------------------------------------------------------------------------------
    def settle(self) -> None:
        """Deliver the last replays, stop injecting faults and sync until every client is idle."""
        self.stats["replays_flushed"] = self.stack.proxy.flush_replays()
        self.stack.proxy.enabled = False
        for _ in range(SETTLE_ROUNDS):
            busy = False
            for device in self.devices:
                report = self.sync(device, advance=61.0, force=True)
                if report.pushes or report.pulled or device.open_entries():
                    busy = True
            if not busy:
                break
        else:
            self.violations.append(f"clients still busy after {SETTLE_ROUNDS} settle rounds")
        for process in self.processes:
            self._violation(process.run("settle"))

    def summary(self, elapsed: float) -> dict[str, Any]:
        return {
            "seed": self.settings.seed,
            "clients": self.settings.clients + len(self.processes),
            "operations": sum(self.oracle.ops.values()),
            "operations_by_kind": dict(sorted(self.oracle.ops.items())),
            "proxy": self.stack.proxy.counts(),
            "restarts": dict(self.stack.restarts),
            "stats": dict(sorted(self.stats.items())),
            "violations": len(self.violations),
            "seconds": round(elapsed, 1),
        }
