"""Keeping an installation running: backup, verify and restore, the move to PostgreSQL
(`migrate-to`), check and repair of originals, database and index, health for /healthz and
the status page, and the job workers (Huey consumers)."""
