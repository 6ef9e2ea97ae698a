"""Cicero attendance service."""
