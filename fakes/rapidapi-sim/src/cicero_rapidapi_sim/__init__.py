"""Simulated RapidAPI Instagram and TikTok platform for tests and demos."""
