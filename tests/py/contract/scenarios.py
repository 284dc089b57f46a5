"""The contract scenarios both official clients run against ``directorstudio up``.

Each scenario is written twice, once per client, with the client's default behaviour:
``js/<name>.mjs`` for supabase-js (run by ``js/run.mjs``) and a coroutine of the same name for
supabase-py (``supabase_py_auth.py``, ``supabase_py_scenarios.py``, ``supabase_py_realtime.py``;
``supabase_py.py`` lists them). Both report what they observed as a JSON object of
language-neutral facts (booleans, codes, titles), and both must observe exactly ``expected``:
what hosted Supabase answers to the same calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scenario:
    """One contract scenario and what every client must observe running it."""

    name: str
    expected: dict[str, Any]


SCENARIOS = (
    Scenario(
        "password_sign_up_sign_in_update_refresh_and_sign_out",
        {
            "sign_up_opens_a_session": True,
            "wrong_password_error": "invalid_credentials",
            "sign_in_is_the_signed_up_user": True,
            "get_user_email_matches": True,
            "updated_user_metadata": {"display_name": "Ada"},
            "old_password_after_update_error": "invalid_credentials",
            "new_password_signs_in": True,
            "refresh_rotates_the_refresh_token": True,
            "refreshed_access_token_is_accepted": True,
            "refreshed_user_is_the_same": True,
            "refresh_after_sign_out_error": "refresh_token_not_found",
            "get_user_after_sign_out_refused": True,
        },
    ),
    Scenario(
        "access_tokens_verify_through_the_jwks_and_refresh_tokens_allow_reuse_within_the_interval",
        {
            "alg": "ES256",
            "has_kid": True,
            "claims_are_the_user": True,
            "claims_role": "authenticated",
            "forged_token_refused": True,
            "refresh_succeeds": True,
            "reuse_within_interval_is_the_same_user": True,
        },
    ),
    Scenario(
        "anonymous_sign_in_and_get_user",
        {
            "is_anonymous": True,
            "role": "authenticated",
            "aud": "authenticated",
            "token_type": "bearer",
            "expires_in": 3600,
            "get_user_is_the_same_user": True,
            "get_user_is_anonymous": True,
        },
    ),
    Scenario(
        "rpc_select_filters_order_limit_count_and_single",
        {
            "unarchived_first_two": ["Alpha", "Beta"],
            "selected_columns": ["title"],
            "in_filter_descending": ["Gamma", "Alpha"],
            "archived_included": ["Alpha", "Beta", "Delta", "Gamma"],
            "exact_count": 3,
            "first_page": ["Gamma"],
            "single_row": {"title": "Alpha", "scene_count": 0},
            "single_of_no_row_error": "PGRST116",
        },
    ),
    Scenario(
        "rpc_rows_stay_with_their_owner",
        {
            "owner_sees_own_project": ["Mine"],
            "other_user_sees_nothing": [],
            "other_user_overwrite_error": "id_conflict",
            "owner_row_unchanged": ["Mine"],
        },
    ),
    Scenario(
        "table_reads_and_writes_stay_with_their_owner",
        {
            "insert_returns": ["Mine"],
            "owner_reads": ["Mine"],
            "update_returns": ["Mine, renamed"],
            "single_row": {"title": "Mine, renamed"},
            "owner_count": 1,
            "other_user_reads": [],
            "other_user_update_returns": [],
            "other_user_forged_insert": "42501",
            "other_user_delete": "42501",
            "anon_read": "42501",
            "owner_rows_after": ["Mine, renamed"],
        },
    ),
    Scenario(
        "functions_invoke_enqueue_clip",
        {
            "status_is_queued_or_processing": True,
            "charge": "free",
            "job_is_the_requested_one": True,
            "replay_is_the_same_job": True,
            "rpc_sees_the_job": True,
            "invalid_body_status": 422,
        },
    ),
    Scenario(
        "private_channel_gets_own_change_hints_and_refuses_another_users_topic",
        {
            "own_topic_join": "SUBSCRIBED",
            "hint_event": "change",
            "hint_names_the_table": True,
            "other_users_topic_join": "CHANNEL_ERROR",
            "http_send_to_own_topic": "Unauthorized",
        },
    ),
    Scenario(
        "public_channel_send_and_http_send_reach_the_other_subscriber",
        {"listener_join": "SUBSCRIBED", "sender_join": "SUBSCRIBED", "received": [1, 2]},
    ),
    Scenario(
        "presence_track_and_untrack_reach_the_other_subscriber",
        {
            "watcher_join": "SUBSCRIBED",
            "tracker_join": "SUBSCRIBED",
            "tracked_name": "Ada",
            "keys_after_untrack": [],
        },
    ),
    Scenario(
        "unserved_calls_answer_not_found",
        {
            "storage_upload": ["StorageApiError", 404],
            "storage_signed_url": ["StorageApiError", 404],
            "mfa_enroll": [404, "not_found"],
            "email_otp": [404, "not_found"],
            "unknown_function_status": 404,
        },
    ),
)
