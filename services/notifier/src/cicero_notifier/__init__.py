"""Cicero notifier service."""
