"""The contract scenarios written with supabase-py's async client (the one with realtime).

Each coroutine is named after its scenario in ``scenarios.py`` and reports the same facts as the
supabase-js script of that name.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from postgrest.exceptions import APIError
from storage3.exceptions import StorageApiError
from supabase_auth.errors import AuthApiError
from supabase_functions.errors import FunctionsHttpError

from supabase import AClientOptions, AsyncClient, acreate_client


@dataclass(frozen=True)
class Context:
    """Where the stack listens and the anon key a client starts from."""

    url: str
    anon_key: str

    async def client(self) -> AsyncClient:
        """A new client; no background refresh task (it would outlive the scenario's loop)."""
        options = AClientOptions(auto_refresh_token=False, persist_session=False)
        return await acreate_client(self.url, self.anon_key, options=options)


def _new_id() -> str:
    return str(uuid.uuid4())


async def _api_error(call: Awaitable[Any]) -> APIError | None:
    try:
        await call
    except APIError as error:
        return error
    return None


def _titles(rows: list[dict[str, Any]]) -> list[str]:
    return [row["title"] for row in rows]


async def rpc_select_filters_order_limit_count_and_single(ctx: Context) -> dict[str, Any]:
    sb = await ctx.client()
    await sb.auth.sign_in_anonymously()
    for title in ("Gamma", "Alpha", "Delta", "Beta"):
        project_id = _new_id()
        await sb.rpc(
            "upsert_project_overview", {"p_project_id": project_id, "p_title": title}
        ).execute()
        if title == "Delta":
            await sb.rpc("archive_project", {"p_project_id": project_id}).execute()

    def listing(args: dict[str, Any] | None = None, **options: Any) -> Any:
        return sb.rpc("list_project_overviews", args or {}, **options)

    first_two = (
        await listing({"p_include_archived": True})
        .select("title")
        .eq("archived", "false")
        .order("title")
        .limit(2)
        .execute()
    )
    descending = (
        await listing()
        .select("title")
        .in_("title", ["Alpha", "Gamma"])
        .order("title", desc=True)
        .execute()
    )
    archived = await listing({"p_include_archived": True}).select("title").order("title").execute()
    page = (
        await listing(count="exact").select("title").order("title", desc=True).range(0, 0).execute()
    )
    single = await listing().select("title,scene_count").eq("title", "Alpha").single().execute()
    none = await _api_error(listing().select("title").eq("title", "Omega").single().execute())
    await sb.auth.sign_out()
    return {
        "unarchived_first_two": _titles(first_two.data),
        "selected_columns": list(first_two.data[0]),
        "in_filter_descending": _titles(descending.data),
        "archived_included": _titles(archived.data),
        "exact_count": page.count,
        "first_page": _titles(page.data),
        "single_row": single.data,
        "single_of_no_row_error": none.code if none else None,
    }


async def rpc_rows_stay_with_their_owner(ctx: Context) -> dict[str, Any]:
    owner, other = await ctx.client(), await ctx.client()
    await owner.auth.sign_in_anonymously()
    await other.auth.sign_in_anonymously()
    project_id = _new_id()
    await owner.rpc(
        "upsert_project_overview", {"p_project_id": project_id, "p_title": "Mine"}
    ).execute()
    seen_by_owner = await owner.rpc("list_project_overviews", {}).select("title").execute()
    seen_by_other = await other.rpc("list_project_overviews", {}).select("title").execute()
    overwrite = await _api_error(
        other.rpc(
            "upsert_project_overview", {"p_project_id": project_id, "p_title": "Taken"}
        ).execute()
    )
    after = await owner.rpc("list_project_overviews", {}).select("title").execute()
    await owner.auth.sign_out()
    await other.auth.sign_out()
    return {
        "owner_sees_own_project": _titles(seen_by_owner.data),
        "other_user_sees_nothing": _titles(seen_by_other.data),
        "other_user_overwrite_error": overwrite.hint if overwrite else None,
        "owner_row_unchanged": _titles(after.data),
    }


async def table_reads_and_writes_stay_with_their_owner(ctx: Context) -> dict[str, Any]:
    owner, other, anon = await ctx.client(), await ctx.client(), await ctx.client()
    mine = await owner.auth.sign_in_anonymously()
    assert mine.user is not None
    await other.auth.sign_in_anonymously()
    project_id = _new_id()

    async def refusal(call: Awaitable[Any]) -> str | None:
        error = await _api_error(call)
        return error.code if error else None

    inserted = (
        await owner.table("project_overview")
        .insert({"project_id": project_id, "user_id": mine.user.id, "title": "Mine"})
        .execute()
    )
    read = (
        await owner.table("project_overview").select("title").eq("project_id", project_id).execute()
    )
    renamed = (
        await owner.table("project_overview")
        .update({"title": "Mine, renamed"})
        .eq("project_id", project_id)
        .execute()
    )
    single = (
        await owner.table("project_overview")
        .select("title")
        .eq("project_id", project_id)
        .single()
        .execute()
    )
    counted = await owner.table("project_overview").select("*", count="exact", head=True).execute()
    seen_by_other = await other.table("project_overview").select("title").execute()
    other_update = (
        await other.table("project_overview")
        .update({"title": "Taken"})
        .eq("project_id", project_id)
        .execute()
    )
    forged = await refusal(
        other.table("project_overview")
        .insert({"project_id": _new_id(), "user_id": mine.user.id, "title": "Forged"})
        .execute()
    )
    deleted = await refusal(
        other.table("project_overview").delete().eq("project_id", project_id).execute()
    )
    seen_by_anon = await refusal(anon.table("project_overview").select("title").execute())
    after = await owner.table("project_overview").select("title").execute()
    await owner.auth.sign_out()
    await other.auth.sign_out()
    return {
        "insert_returns": _titles(inserted.data),
        "owner_reads": _titles(read.data),
        "update_returns": _titles(renamed.data),
        "single_row": single.data,
        "owner_count": counted.count,
        "other_user_reads": _titles(seen_by_other.data),
        "other_user_update_returns": _titles(other_update.data),
        "other_user_forged_insert": forged,
        "other_user_delete": deleted,
        "anon_read": seen_by_anon,
        "owner_rows_after": _titles(after.data),
    }


async def functions_invoke_enqueue_clip(ctx: Context) -> dict[str, Any]:
    sb = await ctx.client()
    session = await sb.auth.sign_in_anonymously()
    assert session.user is not None
    project_id, scene_id, job_id = _new_id(), _new_id(), _new_id()
    await sb.rpc(
        "upsert_project_overview", {"p_project_id": project_id, "p_title": "Film"}
    ).execute()
    await sb.rpc(
        "create_scene_draft",
        {
            "p_id": scene_id,
            "p_project_id": project_id,
            "p_prompt_text": "A lighthouse in a storm",
            "p_duration": 3.0,
        },
    ).execute()
    body = {
        "job_id": job_id,
        "prompt": "A lighthouse in a storm",
        "user_key": session.user.id,
        "project_id": project_id,
        "scene_draft_id": scene_id,
    }
    job = await sb.functions.invoke("enqueue_clip", {"body": body, "responseType": "json"})
    replay = await sb.functions.invoke("enqueue_clip", {"body": body, "responseType": "json"})
    status = await sb.rpc("get_clip_job_status", {"p_job_id": job_id}).execute()
    invalid_status: int | None = None
    try:
        await sb.functions.invoke("enqueue_clip", {"body": {"job_id": "not a uuid"}})
    except FunctionsHttpError as error:
        invalid_status = error.status
    await sb.auth.sign_out()
    return {
        # The stack's dispatcher may already have claimed the job when the answer is written.
        "status_is_queued_or_processing": job["status"] in {"queued", "processing"},
        "charge": job["charge"],
        "job_is_the_requested_one": job["id"] == job_id,
        "replay_is_the_same_job": replay["id"] == job_id,
        "rpc_sees_the_job": status.data["id"] == job_id,
        "invalid_body_status": invalid_status,
    }


async def _storage_error(call: Awaitable[Any]) -> list[Any]:
    try:
        await call
    except StorageApiError as error:
        return [error.name, error.status]
    return [None, None]


async def _auth_status(call: Awaitable[Any]) -> list[Any]:
    try:
        await call
    except AuthApiError as error:
        return [error.status, error.code]
    return [None, None]


async def unserved_calls_answer_not_found(ctx: Context) -> dict[str, Any]:
    sb = await ctx.client()
    await sb.auth.sign_in_anonymously()
    bucket = sb.storage.from_("renders")
    upload = await _storage_error(
        bucket.upload("note.txt", b"hello", {"content-type": "text/plain"})
    )
    signed = await _storage_error(bucket.create_signed_url("note.txt", 60))
    mfa = await _auth_status(sb.auth.mfa.enroll({"factor_type": "totp"}))
    otp = await _auth_status(sb.auth.sign_in_with_otp({"email": "someone@example.com"}))
    unknown_function: int | None = None
    try:
        await sb.functions.invoke("hello")
    except FunctionsHttpError as error:
        unknown_function = error.status
    await sb.auth.sign_out()
    return {
        "storage_upload": upload,
        "storage_signed_url": signed,
        "mfa_enroll": mfa,
        "email_otp": otp,
        "unknown_function_status": unknown_function,
    }


BASIC_SCENARIOS: dict[str, Callable[[Context], Awaitable[dict[str, Any]]]] = {
    scenario.__name__: scenario
    for scenario in (
        rpc_select_filters_order_limit_count_and_single,
        rpc_rows_stay_with_their_owner,
        table_reads_and_writes_stay_with_their_owner,
        functions_invoke_enqueue_clip,
        unserved_calls_answer_not_found,
    )
}
