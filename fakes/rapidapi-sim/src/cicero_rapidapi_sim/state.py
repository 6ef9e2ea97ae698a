"""Mutable state of one simulator instance, shared by the HTTP handlers and in-process test controls."""

from __future__ import annotations

import threading
from datetime import date

from .dataset import Dataset
from .faults import FaultState
from .settings import SimSettings
from .world import World, build_world


class SimState:
    def __init__(self, dataset: Dataset, settings: SimSettings) -> None:
        self.settings = settings
        self.faults = FaultState()
        self._lock = threading.Lock()
        self._dataset = dataset
        self._world = build_world(dataset, settings.today)

    @property
    def world(self) -> World:
        """Handlers read this once per request, so a concurrent replacement never mixes two worlds."""
        return self._world

    @property
    def dataset(self) -> Dataset:
        return self._dataset

    @property
    def today(self) -> date:
        return self._world.today

    def replace_dataset(self, dataset: Dataset | None = None, today: date | None = None) -> World:
        """Swap in new content (a post vanishing later in the day) and/or move the simulated day."""
        with self._lock:
            new_dataset = dataset if dataset is not None else self._dataset
            world = build_world(new_dataset, today if today is not None else self._world.today)
            self._dataset = new_dataset
            self._world = world
            return world
