"""Cicero ingest service."""
