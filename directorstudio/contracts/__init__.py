"""What the client library and the server share: error codes and contract models.

This package imports nothing else from the project, so both sides may depend on it;
:mod:`.postgrest` is how both act on the database as PostgREST does.
"""
