"""PostgREST's behaviour in one place, for every part that talks to the database as the API does.

- :mod:`.context`: the per-request transaction context PostgREST sets (role, JWT claims, search
  path, method, path, headers), for sync and async connections;
- :mod:`.catalog`: the schema cache: functions of the exposed schema (``pg_proc``) and its
  tables and views with their columns;
- :mod:`.grammar`: PostgREST's query grammar (``select``, filters, ``order``, paging) parsed
  into plans;
- :mod:`.statements`: the SQL of function calls, reads and writes, identifiers quoted and values
  bound;
- :mod:`.errors`: SQLSTATE → PostgREST's error body and HTTP status, and database errors as the
  documented codes of :mod:`directorstudio.contracts.errors`.

It imports only psycopg and :mod:`directorstudio.contracts`, so the gateway, the functions'
database layer and the client library's direct transport all use it.
"""
