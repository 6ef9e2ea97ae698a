"""Datasets shipped with the simulator, found both in the source tree and inside an installed wheel."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .dataset import Dataset, load_dataset, parse_dataset

_CANDIDATES = (
    Path(__file__).resolve().parent / "data",  # wheel: force-included next to the code
    Path(__file__).resolve().parents[2] / "data",  # workspace checkout: fakes/rapidapi-sim/data
)

BUNDLED_NAMES = ("demo", "e2e")


def bundled_dataset_path(name: str) -> Path:
    """``demo`` uses times relative to the simulated day; ``e2e`` is pinned to 2026-03-10 WIB."""
    for directory in _CANDIDATES:
        candidate = directory / f"{name}.json"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"bundled dataset {name!r} not found in {[str(d) for d in _CANDIDATES]}")


def resolve_dataset_arg(value: str | Path) -> Path:
    """A real file wins; the bare names ``demo``/``e2e`` fall back to the shipped datasets."""
    path = Path(value)
    if path.is_file() or str(value) not in BUNDLED_NAMES:
        return path
    return bundled_dataset_path(str(value))


def coerce_dataset(value: Dataset | Mapping[str, Any] | str | Path | None) -> Dataset:
    if value is None:
        return Dataset()
    if isinstance(value, Dataset):
        return value
    if isinstance(value, Mapping):
        return parse_dataset(value)
    return load_dataset(resolve_dataset_arg(value))
