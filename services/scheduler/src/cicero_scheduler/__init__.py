"""Cicero scheduler service."""
