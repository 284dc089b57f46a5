"""Code shared by the HTTP functions: configuration, auth, database access, errors, rendering."""
