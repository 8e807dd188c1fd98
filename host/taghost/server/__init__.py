"""The opentag server: verified uplink batches into SQLite or PostgreSQL (docs/server.md)."""
