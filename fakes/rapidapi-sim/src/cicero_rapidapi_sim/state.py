"""Mutable state of one simulator instance, shared by the HTTP handlers and in-process test controls."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from .dataset import Dataset
from .faults import FaultState
from .settings import SimSettings
from .world import World, build_world

R = TypeVar("R")


@dataclass(frozen=True)
class Snapshot:
    """The dataset and the world resolved from it, swapped as one reference so they always agree."""

    dataset: Dataset
    world: World


# A change reads the current snapshot and returns the next one plus a result for its caller. It must not
# mutate what it is given: readers may be holding the old snapshot.
Change = Callable[[Snapshot], tuple[Snapshot, R]]


class SimState:
    def __init__(self, dataset: Dataset, settings: SimSettings) -> None:
        self.settings = settings
        self.faults = FaultState()
        self._lock = threading.Lock()
        self._snapshot = Snapshot(dataset, build_world(dataset, settings.today))

    @property
    def world(self) -> World:
        """Handlers read this once per request, so a concurrent change never mixes two worlds."""
        return self._snapshot.world

    @property
    def dataset(self) -> Dataset:
        return self._snapshot.dataset

    @property
    def today(self) -> date:
        return self._snapshot.world.today

    def replace_dataset(self, dataset: Dataset | None = None, today: date | None = None) -> World:
        """Swap in new content (a post vanishing later in the day) and/or move the simulated day."""
        with self._lock:
            current = self._snapshot
            new_dataset = dataset if dataset is not None else current.dataset
            world = build_world(new_dataset, today if today is not None else current.world.today)
            self._snapshot = Snapshot(new_dataset, world)
            return world

    def apply(self, change: Change[R]) -> R:
        """Run one run-time change (see ``changes.py``) atomically: all of it becomes visible or none of it.

        Changes are serialised by the lock; the new snapshot is published with a single assignment, so a
        request sees the world before or after the change, never in between. A change that raises leaves
        the state as it was.
        """
        with self._lock:
            snapshot, result = change(self._snapshot)
            self._snapshot = snapshot
            return result
