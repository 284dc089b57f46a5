"""DirectorStudio client library: local cache, durable outbox and sync with the backend."""
