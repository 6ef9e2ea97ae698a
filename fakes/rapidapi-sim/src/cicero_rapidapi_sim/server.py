"""Run the simulator in-process on a background thread, for tests of the packages that call it.

The listening socket is bound before uvicorn starts, so the port is known at once (port 0 works) and early
connections wait in the backlog instead of being refused; readiness is then confirmed by the health endpoint
rather than by sleeping.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from . import changes
from .app import create_app
from .bundled import coerce_dataset
from .dataset import Dataset, IgAccount, IgComment, IgPost, TtAccount, TtComment, TtVideo
from .faults import EndlessMode, FaultSpec
from .settings import DEFAULT_API_KEY, SimSettings
from .state import SimState


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # asyncio only sets TCP_NODELAY on sockets it binds itself; accepted sockets inherit it from here, and
    # without it every keep-alive request stalls ~40 ms on Nagle + delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def url_for(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    elif host == "0.0.0.0":
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def wait_healthy(base_url: str, timeout: float, alive: Callable[[], bool] | None = None) -> None:
    """Poll ``/_sim/health`` until it answers or ``timeout`` passes; ``alive()`` false aborts early."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    pause = 0.005
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"simulator at {base_url} not healthy within {timeout}s: {last_error!r}")
        if alive is not None and not alive():
            raise RuntimeError(f"simulator at {base_url} stopped before becoming healthy")
        try:
            with urllib.request.urlopen(f"{base_url}/_sim/health", timeout=min(remaining, 2.0)) as reply:
                if reply.status == 200 and json.load(reply).get("status") == "ok":
                    return
        except (OSError, urllib.error.URLError, ValueError) as exc:
            last_error = exc
        # Only reached after a failed attempt (e.g. a refused connect): back off briefly before retrying.
        threading.Event().wait(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.2)


@dataclass
class RunningSimulator:
    """Handle on a live simulator: its URL plus direct (thread-safe) controls over its state."""

    base_url: str
    app: FastAPI
    state: SimState
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-RapidAPI-Key": self.api_key, "x-cache-control": "no-cache"}

    def add_fault(
        self,
        path: str,
        status: int = 500,
        *,
        times: int = 1,
        retry_after: int | None = None,
        body: dict[str, Any] | list[Any] | None = None,
        malformed: bool = False,
        delay: float = 0.0,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        keys: Iterable[str] | None = None,
        endless: EndlessMode | None = None,
    ) -> FaultSpec:
        """Queue a fault (see ``FaultSpec``); ``key``/``keys`` narrow it to requests sent with that API key."""
        matched_keys = [*([key] if key is not None else []), *(keys or [])]
        spec = FaultSpec(
            path=path,
            status=status,
            times=times,
            retry_after=retry_after,
            body=body,
            malformed=malformed,
            delay=delay,
            query=dict(query or {}),
            headers=dict(headers or {}),
            keys=matched_keys,
            endless=endless,
        )
        self.state.faults.add(spec)
        return spec

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def request_counts(self) -> dict[str, int]:
        return self.state.faults.counts()

    def requests_to(self, path: str) -> int:
        return self.state.faults.counts().get(path, 0)

    def reset_requests(self) -> None:
        self.state.faults.reset_requests()

    def replace_dataset(
        self, dataset: Dataset | dict[str, Any] | str | Path | None = None, today: date | str | None = None
    ) -> None:
        new = None if dataset is None else coerce_dataset(dataset)
        self.state.replace_dataset(new, _as_date(today))

    def reset(self) -> None:
        """Between tests sharing one simulator: no queued faults, no counted requests."""
        self.clear_faults()
        self.reset_requests()

    # Run-time changes (``changes.py``). Each is atomic, visible to the next API request, returns the same
    # JSON as its ``/_sim/...`` endpoint, and raises a ``changes.ChangeError`` (InvalidChange, NotFound,
    # Conflict) without changing anything when it cannot be applied.

    def add_ig_account(self, account: Mapping[str, Any] | IgAccount) -> dict[str, Any]:
        return changes.add_ig_account(self.state, account)

    def add_ig_post(self, account: str, post: Mapping[str, Any] | IgPost) -> dict[str, Any]:
        """``account``: username or user id. Returns ``{"item": <the post as /v1/posts serves it>}``."""
        return changes.add_ig_post(self.state, account, post)

    def remove_ig_post(self, ref: str) -> dict[str, Any]:
        """``ref``: shortcode or media id. Returns ``{"removed": <shortcode>, "id": <media id>}``."""
        return changes.remove_ig_post(self.state, ref)

    def add_ig_likers(self, ref: str, likers: Iterable[str]) -> dict[str, Any]:
        return changes.add_ig_likers(self.state, ref, {"likers": list(likers)})

    def add_ig_comments(self, ref: str, comments: Iterable[Mapping[str, Any] | IgComment | str]) -> dict[str, Any]:
        return changes.add_ig_comments(self.state, ref, {"comments": list(comments)})

    def set_ig_counts(
        self, ref: str, *, like_count: int | None = None, comment_count: int | None = None
    ) -> dict[str, Any]:
        return changes.set_ig_counts(self.state, ref, {"like_count": like_count, "comment_count": comment_count})

    def add_tt_account(self, account: Mapping[str, Any] | TtAccount) -> dict[str, Any]:
        return changes.add_tt_account(self.state, account)

    def add_tt_video(self, account: str, video: Mapping[str, Any] | TtVideo) -> dict[str, Any]:
        """``account``: uniqueId or secUid. Returns ``{"item": <the video as /api/user/posts serves it>}``."""
        return changes.add_tt_video(self.state, account, video)

    def remove_tt_video(self, video_id: str) -> dict[str, Any]:
        return changes.remove_tt_video(self.state, video_id)

    def add_tt_comments(self, video_id: str, comments: Iterable[Mapping[str, Any] | TtComment | str]) -> dict[str, Any]:
        return changes.add_tt_comments(self.state, video_id, {"comments": list(comments)})

    def set_tt_stats(
        self,
        video_id: str,
        *,
        digg_count: int | None = None,
        comment_count: int | None = None,
        play_count: int | None = None,
        share_count: int | None = None,
    ) -> dict[str, Any]:
        stats = {
            "diggCount": digg_count,
            "commentCount": comment_count,
            "playCount": play_count,
            "shareCount": share_count,
        }
        return changes.set_tt_stats(self.state, video_id, {"stats": stats})


def _default_key(settings: SimSettings) -> str:
    if DEFAULT_API_KEY in settings.api_keys:
        return DEFAULT_API_KEY
    return min(settings.api_keys, default="")


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


@contextmanager
def running_simulator(
    dataset: Dataset | dict[str, Any] | str | Path | None = None,
    *,
    settings: SimSettings | None = None,
    today: date | str | None = None,
    api_keys: Iterable[str] | None = None,
    unsubscribed_keys: Iterable[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 10.0,
    stop_timeout: float = 5.0,
) -> Iterator[RunningSimulator]:
    """Serve ``dataset`` (a Dataset, its JSON as a dict, a file path, or ``"demo"``/``"e2e"``) until exit.

    A plain (sync) context manager so it works the same from sync tests, async tests and fixtures: the
    server has its own thread and event loop and never touches the caller's.
    """
    resolved = settings or SimSettings()
    keys = list(api_keys) if api_keys is not None else None
    if keys is not None:
        resolved = replace(resolved, api_keys=frozenset(keys))
    if unsubscribed_keys is not None:
        resolved = replace(resolved, unsubscribed_keys=frozenset(unsubscribed_keys))
    day = _as_date(today)
    if day is not None:
        resolved = replace(resolved, today=day)
    app = create_app(coerce_dataset(dataset), resolved)
    api_key = keys[0] if keys else _default_key(resolved)
    sock = bind_socket(host, port)
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="rapidapi-sim", daemon=True)
    thread.start()
    base_url = url_for(sock)
    try:
        wait_healthy(base_url, startup_timeout, thread.is_alive)
        yield RunningSimulator(base_url=base_url, app=app, state=app.state.sim, api_key=api_key)
    finally:
        server.should_exit = True
        thread.join(stop_timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(stop_timeout)
        sock.close()
