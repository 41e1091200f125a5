"""``python -m alsona_nb.sandbox``: serve the local sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import time

from . import DEFAULT_ACCOUNT_ID, Sandbox


def main(argv: list[str] | None = None) -> None:
    """``python -m alsona_nb.sandbox``: serve the sandbox until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m alsona_nb.sandbox", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=None, help="the key to accept (default: random)")
    parser.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    args = parser.parse_args(argv)
    sandbox = Sandbox(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        account_id=args.account_id,
        latency=args.latency,
    )
    with sandbox:
        print(f"Alsona SANDBOX (local, nothing is sent to Alsona) at {sandbox.url}", flush=True)
        print(f"  ALSONA_BASE_URL={sandbox.url}")
        print(f"  ALSONA_ACCOUNT_ID={sandbox.account_id}")
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
