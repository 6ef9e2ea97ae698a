"""Error bodies the upstream APIs (not the gateway) return for bad requests, shared by both platforms."""

from __future__ import annotations

from starlette.responses import JSONResponse

MISSING = {"error": "Missing required params"}


def missing_params() -> JSONResponse:
    return JSONResponse(MISSING, status_code=400)


def invalid_param(name: str) -> JSONResponse:
    """Garbage cursors are a consumer bug; answering 400 surfaces it instead of serving page one again."""
    return JSONResponse({"error": f"Invalid {name}"}, status_code=400)
