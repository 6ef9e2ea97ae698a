"""The console script, run as a real subprocess the way Docker and demos run it."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from cicero_rapidapi_sim.bundled import bundled_dataset_path
from cicero_rapidapi_sim.server import wait_healthy

SCRIPT = Path(sys.executable).with_name("cicero-rapidapi-sim")
STARTUP_TIMEOUT = 15.0


def read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError("simulator printed nothing")
    return proc.stdout.readline()


@contextmanager
def simulator_process(args: list[str], env: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SIM_")}
    full_env.update(env or {})
    proc = subprocess.Popen(
        [str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env
    )
    try:
        line = read_line(proc, STARTUP_TIMEOUT)
        assert line, f"no startup line; stderr: {proc.stderr.read() if proc.stderr else ''}"
        started = json.loads(line)
        wait_healthy(started["url"], STARTUP_TIMEOUT, lambda: proc.poll() is None)
        yield started
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_cli_serves_the_e2e_dataset_on_port_0() -> None:
    started_at = time.monotonic()
    with simulator_process(
        [
            "--dataset",
            str(bundled_dataset_path("e2e")),
            "--port",
            "0",
            "--api-key",
            "cli-key",
            "--api-key",
            "other",
        ]
    ) as started:
        assert started["event"] == "rapidapi_sim_started"
        assert started["url"].startswith("http://127.0.0.1:") and started["port"] > 0
        with httpx.Client(base_url=started["url"], timeout=5.0) as client:
            body = client.get(
                "/v1/posts",
                params={"username_or_id_or_url": "polres_demo"},
                headers={"X-RapidAPI-Key": "other"},
            ).json()
            todays = sorted(i["taken_at"] for i in body["data"]["items"] if not i["is_pinned"])
            assert todays == [1773105300, 1773114000, 1773123600]
            denied = client.get("/v1/posts", params={"username_or_id_or_url": "polres_demo"})
            assert denied.status_code == 401
    assert time.monotonic() - started_at < STARTUP_TIMEOUT


def test_cli_reads_environment() -> None:
    env = {
        "SIM_DATASET": "demo",
        "SIM_PORT": "0",
        "SIM_TODAY": "2026-03-10",
        "SIM_API_KEYS": "env-a, env-b",
        "SIM_LIKES_PAGE_SIZE": "2",
        "SIM_LIKES_CAP": "3",
    }
    with simulator_process([], env) as started:
        assert started["today"] == "2026-03-10"
        assert (started["likes_page_size"], started["likes_cap"]) == (2, 3)
        assert started["instagram_accounts"] == 2 and started["tiktok_accounts"] == 2
        with httpx.Client(base_url=started["url"], headers={"X-RapidAPI-Key": "env-b"}, timeout=5.0) as client:
            info = client.get("/v1/post_info", params={"code_or_id_or_url": "C9demo0815a"}).json()
            assert info["data"]["taken_at"] == 1773105300  # relative 08:15 resolved on SIM_TODAY
            assert info["data"]["caption"]["text"] == "Giat patroli dialogis bersama warga #polri #presisi"
            tt = client.get("/api/user/info", params={"uniqueId": "polres_demo_tt"}).json()
            assert tt["userInfo"]["user"]["secUid"] == "MS4wLjABAAAAdemo"
            likes = client.get("/v1/likes", params={"code_or_id_or_url": "C9demo0815a"}).json()["data"]
            assert (likes["count"], likes["total"], likes["has_more"]) == (2, 3, True)  # 4 likers, capped at 3


def test_cli_rejects_bad_arguments() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIM_")}
    missing = subprocess.run([str(SCRIPT)], capture_output=True, text=True, env=env, timeout=STARTUP_TIMEOUT)
    assert missing.returncode == 2 and "--dataset" in missing.stderr
    bad_day = subprocess.run(
        [str(SCRIPT), "--dataset", "demo", "--today", "10-03-2026"],
        capture_output=True,
        text=True,
        env=env,
        timeout=STARTUP_TIMEOUT,
    )
    assert bad_day.returncode == 2 and "YYYY-MM-DD" in bad_day.stderr
