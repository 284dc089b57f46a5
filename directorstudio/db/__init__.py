"""Database access with PostgREST's per-request context, and error translation."""
