"""Cicero wa-gateway service."""
