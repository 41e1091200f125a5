"""``python -m alsona_nb.sandbox``: serve the local sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import time

from ._sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PAGE_SIZE, WILDCARD_HOSTS, Sandbox


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox until Ctrl-C; prints the settings a client needs (never a key
    given with ``--api-key``)."""
    parser = argparse.ArgumentParser(
        prog="python -m alsona_nb.sandbox", description="Serve the local Alsona sandbox."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=None, help="the key to accept (default: random)")
    parser.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    parser.add_argument("--rate", type=float, default=None, help="throttle: requests a second")
    parser.add_argument("--burst", type=int, default=None, help="throttle: burst size")
    parser.add_argument(
        "--page-size", type=int, default=DEFAULT_PAGE_SIZE, help="items per list page"
    )
    args = parser.parse_args(argv)
    if args.burst is not None and args.rate is None:
        parser.error("--burst needs --rate")
    try:
        sandbox = Sandbox(
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            account_id=args.account_id,
            latency=args.latency,
            page_size=args.page_size,
            rate=args.rate,
            burst=args.burst,
        )
    except ValueError as exc:
        parser.error(str(exc))
    with sandbox:
        print(f"Alsona SANDBOX (local, nothing is sent to Alsona) at {sandbox.url}", flush=True)
        if args.host in WILDCARD_HOSTS:
            print(
                f"  listening on all interfaces ({args.host or '0.0.0.0'}), port "
                f"{sandbox.url.rsplit(':', 1)[1]}: other machines can reach it too"
            )
        print(f"  ALSONA_BASE_URL={sandbox.url}")
        print(f"  ALSONA_ACCOUNT_ID={sandbox.account_id}")
        if sandbox.rate is not None:
            print(f"  throttle: {sandbox.rate:g} requests a second, bursts of {sandbox.burst}")
        if args.api_key:
            print("  ALSONA_API_KEY=(the key you passed with --api-key)", flush=True)
        else:
            print(f"  ALSONA_API_KEY={sandbox.api_key}   (a random sandbox key)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
