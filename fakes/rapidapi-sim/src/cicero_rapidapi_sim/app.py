"""Application factory: one FastAPI app serving both platforms behind a simulated RapidAPI gateway."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import admin, control, instagram, tiktok
from .dataset import Dataset
from .proxy import gateway
from .settings import SimSettings
from .state import SimState


async def _http_error(request: Request, exc: Exception) -> Response:
    """Answer unknown paths the way the gateway does, so a misconfigured base path is obvious."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return JSONResponse({"message": f"Endpoint '{request.url.path}' does not exist"}, status_code=404)
    return JSONResponse({"message": str(exc.detail)}, status_code=exc.status_code)


def create_app(dataset: Dataset, settings: SimSettings | None = None) -> FastAPI:
    app = FastAPI(
        title="Simulated RapidAPI (Instagram + TikTok)",
        docs_url="/_sim/docs",
        redoc_url=None,
        openapi_url="/_sim/openapi.json",
    )
    app.state.sim = SimState(dataset, settings or SimSettings())
    app.include_router(admin.router)
    app.include_router(control.router)
    app.include_router(instagram.router)
    app.include_router(tiktok.router)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.middleware("http")(gateway)
    return app
