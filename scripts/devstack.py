"""``make run``: the whole system on this machine against the simulated platform.

Starts the simulator (unless real platform URLs are configured), migrates and starts the five services
as separate processes, imports the demo clients and personnel (``examples/``), fires one post-fetch tick
so a task list arrives at once, and prints every WhatsApp message as the gateway writes it. Unless SMTP_HOST is
configured, e-mail goes to a local sink (``scripts/mail_sink.py``) that keeps each mail under var/mail/ and shows
it. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from cicero_runtime.testing.processes import ManagedProcess, bin_path, free_port, run_command

REPO = Path(__file__).resolve().parents[1]
VAR = REPO / "var"
SERVICES = ("attendance", "ingest", "notifier", "wa-gateway", "scheduler")
HEALTH_BASE_PORT = 18080


def load_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def build_env(sim_port: int) -> tuple[dict[str, str], bool]:
    env = {k: v for k, v in load_dotenv(REPO / ".env").items() if k not in os.environ}
    env.setdefault("DATABASE_URL", os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/cicero"))
    env.setdefault("CICERO_SQL_DIR", str(REPO / "sql"))
    env.setdefault("LOG_FORMAT", os.environ.get("LOG_FORMAT", "json"))
    env.setdefault("WA_FILE_PATH", str(VAR / "whatsapp.jsonl"))
    configured = os.environ.get("INSTAGRAM_BASE_URL") or env.get("INSTAGRAM_BASE_URL") or ""
    simulated = not configured or urlparse(configured).hostname in {"localhost", "127.0.0.1"}
    if simulated:
        env.update({"INSTAGRAM_BASE_URL": f"http://127.0.0.1:{sim_port}",
                    "TIKTOK_BASE_URL": f"http://127.0.0.1:{sim_port}", "RAPIDAPI_KEY": "sim-key"})
    return env, simulated


def local_mail(env: dict[str, str]) -> int | None:
    """Point the notifier at a local sink unless a real SMTP server is configured; returns the sink's port."""
    if os.environ.get("SMTP_HOST") or env.get("SMTP_HOST"):
        return None
    port = int(os.environ.get("MAIL_SINK_PORT", "1025"))
    if port_in_use(port):
        port = free_port()
    env.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none"})
    # a throw-away OTP key for this run only; deployments set their own in .env
    env.setdefault("OTP_SECRET", os.environ.get("OTP_SECRET") or secrets.token_hex(32))
    return port


def follow(path: Path, stop: threading.Event) -> None:
    """Print each WhatsApp message the file provider writes, as a person would read it."""
    offset = path.stat().st_size if path.exists() else 0
    while not stop.is_set():
        if path.exists() and path.stat().st_size > offset:
            with path.open(encoding="utf-8") as handle:
                handle.seek(offset)
                chunk = handle.read()
                offset = handle.tell()
            for line in chunk.splitlines():
                message = json.loads(line)
                print(f"\n=== WhatsApp → {message['chat_id']} ({message['session']}) ===\n{message['text']}\n",
                      flush=True)
        stop.wait(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-demo", action="store_true", help="do not import the demo directory or fire a tick")
    args = parser.parse_args()
    sim_port = int(os.environ.get("SIM_PORT", "8090"))
    env, simulated = build_env(sim_port)
    logs = VAR / "logs"
    processes: list[ManagedProcess] = []
    mail_port = local_mail(env)
    if mail_port is not None:
        processes.append(ManagedProcess("mail-sink", [sys.executable, str(REPO / "scripts/mail_sink.py"), "--port",
                                        str(mail_port), "--dir", str(VAR / "mail")], {}, logs / "mail-sink.log"))
    if simulated:
        processes.append(ManagedProcess("rapidapi-sim", [bin_path("cicero-rapidapi-sim"), "--dataset",
                                        str(REPO / "fakes/rapidapi-sim/data/demo.json"), "--port", str(sim_port)],
                                        {}, logs / "rapidapi-sim.log"))
    for name in SERVICES:
        result = run_command([bin_path(f"cicero-{name}"), "migrate"], env)
        if result.returncode != 0:
            print(f"cicero-{name} migrate failed:\n{result.stderr[-2000:]}", file=sys.stderr)
            return 1
    api_port = int(os.environ.get("API_PORT", "8081"))
    if port_in_use(api_port):
        api_port = free_port()
    for index, name in enumerate(SERVICES):
        port = HEALTH_BASE_PORT + index
        if port_in_use(port):
            port = free_port()
        service_env = {**env, "HEALTH_PORT": str(port)}
        if name == "attendance":
            service_env["API_PORT"] = str(api_port)
        processes.append(ManagedProcess(name, [bin_path(f"cicero-{name}"), "run"], service_env, logs / f"{name}.log"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    wa_file = Path(env["WA_FILE_PATH"])
    for process in processes:
        process.start()
    print(f"Cicero is running: {len(processes)} processes, logs in {logs}/", flush=True)
    print(f"WhatsApp messages are written to {wa_file} (and shown below)", flush=True)
    print(f"Attendance read API: http://127.0.0.1:{api_port}/docs", flush=True)
    if mail_port is not None:
        print(f"E-mail goes to a local sink on port {mail_port}: kept in {VAR / 'mail'}/", flush=True)
    watcher = threading.Thread(target=follow, args=(wa_file, stop), daemon=True)
    watcher.start()
    try:
        if not args.no_demo:
            for kind in ("clients", "personnel"):  # personnel name their client: clients first
                imported = run_command([bin_path("cicero-attendance"), f"import-{kind}",
                                        str(REPO / "examples" / f"{kind}.csv")], env)
                print(f"demo {kind}: {imported.stdout.strip() or imported.stderr.strip()[-500:]}", flush=True)
            fired = run_command([bin_path("cicero-scheduler"), "fire", "post-fetch"], env)
            print(f"demo tick: {fired.stdout.strip() or fired.stderr.strip()[-500:]}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not stop.is_set():
            dead = [p.name for p in processes if not p.alive()]
            if dead:
                print(f"stopped unexpectedly: {', '.join(dead)}; see {logs}/", file=sys.stderr)
                for p in processes:
                    if p.name in dead:
                        print(p.log_tail(20), file=sys.stderr)
                return 1
            stop.wait(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan the services mid-stop
        for process in reversed(processes):
            process.stop()
        print("Cicero stopped.")
    return 0


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


if __name__ == "__main__":
    raise SystemExit(main())
