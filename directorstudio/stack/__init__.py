"""The local stack: PostgreSQL, a Supabase-compatible gateway, the functions and the schedule.

Started by ``directorstudio up``; imported by nothing but the CLI and the tests.
"""
