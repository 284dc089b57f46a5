"""Pushing every due batch of the outbox, pipelined.

While the server works on one batch, the client records the answer to the previous one and
claims the batch after it, so when an answer arrives the next request leaves at once. Order
and exactly-once are kept: a batch is claimed only behind the one in flight (never one of its
entries), it is sent only once the answer before it has arrived and kept every row id (a
remapped id means its entries are read again after the answer is recorded), and after a failed
answer it goes back to the states it had, unsent, to follow the failed batch on its retry.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from directorstudio.contracts.sync import PushResponse
from directorstudio_client.storage.models import EntryState, OutboxEntry
from directorstudio_client.sync.outbox import OutboxDrainer, PushReport
from directorstudio_client.sync.pipeline import Pipeline


def _ids(batch: list[OutboxEntry]) -> frozenset[str]:
    return frozenset(entry.entry_id for entry in batch)


def drain_outbox(
    drainer: OutboxDrainer,
    pushes: list[PushReport],
    after_push: Callable[[PushReport], None],
    rounds: int = 1000,
) -> None:
    """Push due batches until none is left, one fails, or ``rounds`` answers were recorded;
    each push's report is appended to ``pushes`` and handed to ``after_push``."""
    batch = drainer.claim()
    if not batch:
        return
    ahead: tuple[list[OutboxEntry], list[EntryState]] = ([], [])
    with Pipeline("directorstudio-push") as pool:
        sent = pool.run_now(partial(drainer.send, batch))
        for _ in range(rounds):
            answer, started, finished = sent.result()
            following: list[OutboxEntry] = []
            if isinstance(answer, PushResponse) and drainer.keeps_ids(batch, answer):
                following = ahead[0] or drainer.claim(_ids(batch))
                ahead = ([], [])
                if following:
                    sent = pool.run_behind(partial(drainer.send, following))
            push = drainer.record(batch, answer, started, finished)
            pushes.append(push)
            after_push(push)
            if push.failed:
                break
            if following:
                ahead = drainer.claim_with_states(_ids(following))
            else:
                # Nothing was in flight behind this batch, or ids changed: read the queue again
                # (entries claimed ahead are in flight, so they come first).
                ahead = ([], [])
                following = drainer.claim()
                if not following:
                    break
                sent = pool.run_now(partial(drainer.send, following))
            batch = following
        if ahead[0]:
            drainer.release(*ahead)
