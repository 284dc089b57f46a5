"""Routines migrations as deltas: what the sources define versus what the migrations build.

``scratch`` gives throwaway databases, ``catalog`` reads the objects the sources manage from a
database's catalog, ``delta`` renders the SQL that turns one catalog into another and ``plan``
builds both sides and writes or checks the next routines migration.
"""
