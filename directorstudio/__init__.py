"""DirectorStudio backend: database tooling, HTTP functions and the local stack."""
