"""Plumbing shared by every Cicero service."""
