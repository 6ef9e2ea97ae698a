"""Test support shared by every package's tests: real servers, fresh schemas and names, fakes on loopback."""

from cicero_runtime.testing.waiting import wait_for

__all__ = ["wait_for"]
