"""``python -m alsona_nb.sandbox``: serve the local sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import time

from ._sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PAGE_SIZE, WILDCARD_HOSTS, Sandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m alsona_nb.sandbox", description="Serve the local Alsona sandbox."
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on")
    add("--port", type=int, default=8765)
    add("--api-key", default=None, help="the key to accept (default: random)")
    add("--account-id", default=DEFAULT_ACCOUNT_ID)
    add(
        "--also-account",
        action="append",
        default=[],
        metavar="ACCOUNT_ID",
        help="another account the key reaches (repeat for more)",
    )
    add("--latency", type=float, default=0.0, help="seconds added to each answer")
    add("--rate", type=float, default=None, help="throttle: requests a second")
    add("--burst", type=int, default=None, help="throttle: burst size")
    add("--page-size", type=int, default=DEFAULT_PAGE_SIZE, help="items per list page")
    add("--ignore-ids", action="store_true", help="ignore client-chosen campaign ids")
    add("--read-lag", type=int, default=0, help="reads a new campaign is missing from")
    return parser


def _announce(sandbox: Sandbox, host: str, key_given: bool) -> None:
    """Print what a client needs: URL, account, key (never one given with ``--api-key``)."""
    print(f"Alsona SANDBOX (local, nothing is sent to Alsona) at {sandbox.url}", flush=True)
    if host in WILDCARD_HOSTS:
        print(
            f"  listening on all interfaces ({host or '0.0.0.0'}), port "
            f"{sandbox.url.rsplit(':', 1)[1]}: other machines can reach it too"
        )
    print(f"  ALSONA_BASE_URL={sandbox.url}")
    print(f"  ALSONA_ACCOUNT_ID={sandbox.account_id}")
    if len(sandbox.accounts) > 1:
        print(f"  the key also reaches: {', '.join(sandbox.accounts[1:])}")
    if not sandbox.honour_ids:
        print("  client-chosen campaign ids are ignored (the server makes its own)")
    if sandbox.read_lag:
        print(f"  a new campaign is missing from its next {sandbox.read_lag} reads")
    if sandbox.rate is not None:
        print(f"  throttle: {sandbox.rate:g} requests a second, bursts of {sandbox.burst}")
    if key_given:
        print("  ALSONA_API_KEY=(the key you passed with --api-key)", flush=True)
    else:
        print(f"  ALSONA_API_KEY={sandbox.api_key}   (a random sandbox key)", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox until Ctrl-C; prints the settings a client needs (never a key
    given with ``--api-key``). Exits with a usage error for settings it cannot use."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.burst is not None and args.rate is None:
        parser.error("--burst needs --rate")
    try:
        sandbox = Sandbox(
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            account_id=args.account_id,
            accounts=args.also_account,
            latency=args.latency,
            page_size=args.page_size,
            rate=args.rate,
            burst=args.burst,
            honour_ids=not args.ignore_ids,
            read_lag=args.read_lag,
        )
    except ValueError as exc:
        parser.error(str(exc))
    with sandbox:
        _announce(sandbox, args.host, bool(args.api_key))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
