"""Command line: ``cicero-rapidapi-sim --dataset PATH [--host H] [--port P] [--today D] [--api-key K ...]``.

Every flag has an environment twin (``SIM_DATASET``, ``SIM_HOST``, ``SIM_PORT``, ``SIM_TODAY``,
``SIM_API_KEYS`` and ``SIM_UNSUBSCRIBED_KEYS`` comma separated, ``SIM_LIKES_PAGE_SIZE``, ``SIM_LIKES_CAP``)
so a container can be configured without a command. Flags win over the environment. The one JSON line
printed at startup carries the bound URL, which is how a caller that asked for port 0 learns the port.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import date

from .clock import today_wib
from .settings import DEFAULT_API_KEY, SimSettings


def _split_keys(raw: str | None) -> list[str]:
    return [key.strip() for key in (raw or "").split(",") if key.strip()]


def _parse_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {raw!r}") from None


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {raw!r}")
    return value


def _cap(raw: str) -> int | None:
    """A cap of likers per post; empty or 'none' means no cap."""
    if raw.strip().lower() in ("", "none"):
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more (or 'none'), got {raw!r}")
    return value


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cicero-rapidapi-sim",
        description="Simulated RapidAPI Instagram (/v1/...) and TikTok (/api/...) platform.",
    )
    parser.add_argument(
        "--dataset",
        default=env.get("SIM_DATASET"),
        required="SIM_DATASET" not in env,
        help="dataset JSON file, or 'demo' / 'e2e' for the bundled ones [SIM_DATASET]",
    )
    parser.add_argument("--host", default=env.get("SIM_HOST", "127.0.0.1"), help="[SIM_HOST]")
    parser.add_argument(
        "--port", type=int, default=int(env.get("SIM_PORT", "8090")), help="0 picks a free port [SIM_PORT]"
    )
    parser.add_argument(
        "--today",
        type=_parse_date,
        default=_parse_date(env["SIM_TODAY"]) if env.get("SIM_TODAY") else None,
        help="simulated WIB day for relative times, YYYY-MM-DD (default: today in WIB) [SIM_TODAY]",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help=f"accepted X-RapidAPI-Key, repeatable (default {DEFAULT_API_KEY}) [SIM_API_KEYS]",
    )
    parser.add_argument(
        "--unsubscribed-key",
        action="append",
        dest="unsubscribed_keys",
        help="key answered with 403 'not subscribed', repeatable [SIM_UNSUBSCRIBED_KEYS]",
    )
    parser.add_argument(
        "--likes-page-size",
        type=_positive_int,
        default=env.get("SIM_LIKES_PAGE_SIZE") or SimSettings.ig_likes_page_size,
        help=f"likers per /v1/likes page (default {SimSettings.ig_likes_page_size}) [SIM_LIKES_PAGE_SIZE]",
    )
    parser.add_argument(
        "--likes-cap",
        type=_cap,
        default=env.get("SIM_LIKES_CAP") or None,
        help="list at most this many likers of any post, like big posts on the real API "
        "(default: no cap) [SIM_LIKES_CAP]",
    )
    parser.add_argument("--log-level", default=env.get("SIM_LOG_LEVEL", "warning"))
    parser.add_argument("--access-log", action="store_true", help="log every request (uvicorn access log)")
    return parser


def settings_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> SimSettings:
    keys = args.api_keys or _split_keys(env.get("SIM_API_KEYS")) or [DEFAULT_API_KEY]
    unsubscribed = args.unsubscribed_keys or _split_keys(env.get("SIM_UNSUBSCRIBED_KEYS"))
    return SimSettings(
        api_keys=frozenset(keys),
        unsubscribed_keys=frozenset(unsubscribed),
        today=args.today or today_wib(),
        ig_likes_page_size=args.likes_page_size,
        ig_likes_cap=args.likes_cap,
    )


def main(argv: Sequence[str] | None = None) -> None:
    env = os.environ
    args = build_parser(env).parse_args(argv)
    settings = settings_from_args(args, env)
    # Imported only after the arguments are valid, so a usage error answers instantly.
    import uvicorn

    from .app import create_app
    from .bundled import resolve_dataset_arg
    from .dataset import load_dataset
    from .server import bind_socket, url_for

    dataset_path = resolve_dataset_arg(args.dataset)
    dataset = load_dataset(dataset_path)
    app = create_app(dataset, settings)
    sock = bind_socket(args.host, args.port)
    world = app.state.sim.world
    line = {
        "event": "rapidapi_sim_started",
        "url": url_for(sock),
        "host": args.host,
        "port": sock.getsockname()[1],
        "dataset": str(dataset_path),
        "today": settings.today.isoformat(),
        "likes_page_size": settings.ig_likes_page_size,
        "likes_cap": settings.ig_likes_cap,
        "instagram_accounts": len({a.user_id for a in world.ig_accounts.values()}),
        "tiktok_accounts": len(world.tt_by_unique_id),
    }
    print(json.dumps(line), flush=True)
    config = uvicorn.Config(
        app, log_level=args.log_level, access_log=args.access_log, lifespan="off", timeout_graceful_shutdown=2
    )
    uvicorn.Server(config).run(sockets=[sock])
    sys.exit(0)


if __name__ == "__main__":
    main()
