"""Generate and check the committed JSON Schema files.

Non-Python consumers and contract tests read these files; a test fails when a model changes and its
schema was not regenerated (``python -m cicero_contracts.schema_files``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from cicero_contracts.envelope import Envelope
from cicero_contracts.registry import EVENT_MODELS
from cicero_contracts.rpc import RPC_MODELS

SCHEMA_DIR = Path(__file__).parent / "schemas"
EXAMPLE_DIR = Path(__file__).parent / "examples"


def schema_file_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}.json"


def render(model: type[BaseModel], title: str, version: int) -> str:
    schema: dict[str, Any] = model.model_json_schema(mode="validation")
    schema["title"] = title
    schema["$id"] = f"https://cicero.invalid/schemas/{schema_file_name(title, version)}"
    schema["x-schema-version"] = version
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    files = {schema_file_name("Envelope", 1): render(Envelope, "Envelope", 1)}
    for model in EVENT_MODELS:
        files[schema_file_name(model.event_type, model.schema_version)] = render(
            model, model.event_type, model.schema_version
        )
    for rpc_model in RPC_MODELS:  # request/reply messages: named after the model
        files[schema_file_name(rpc_model.__name__, rpc_model.schema_version)] = render(
            rpc_model, rpc_model.__name__, rpc_model.schema_version
        )
    return files


def stale_files(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files that are missing or differ from what the models generate."""
    stale = []
    for name, text in expected_files().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write_all(directory: Path = SCHEMA_DIR) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected_files().items():
        (directory / name).write_text(text, encoding="utf-8")
        written.append(name)
    return written


def load_schema(event_type: str, version: int = 1) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMA_DIR / schema_file_name(event_type, version)).read_text("utf-8"))
    return data


def load_example(event_type: str, version: int = 1) -> dict[str, Any]:
    """The example payload shared by producer-side and consumer-side contract tests."""
    data: dict[str, Any] = json.loads(
        (EXAMPLE_DIR / schema_file_name(event_type, version)).read_text("utf-8")
    )
    return data


def main() -> int:
    if "--check" in sys.argv[1:]:
        stale = stale_files()
        for name in stale:
            print(f"stale schema: {name}", file=sys.stderr)
        return 1 if stale else 0
    for name in write_all():
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
