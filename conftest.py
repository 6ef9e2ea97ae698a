"""Fixtures over the real servers, shared by every package's tests."""

pytest_plugins = ["cicero_runtime.testing.fixtures"]
