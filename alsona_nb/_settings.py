"""Checks of what a client is made with: the API key and the base URL (so the key can only
travel where it should)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from urllib3.util import parse_url

DEFAULT_BASE_URL = "https://alsona.com"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def key_problem(key: object) -> str | None:
    """Why a key cannot be used, in words that never contain the key."""
    if not isinstance(key, str) or not key.strip():
        return (
            "no API key: set ALSONA_API_KEY, pass api_key=, or use alsona_nb.connect() "
            "for the local sandbox"
        )
    if not all(" " < c < "\x7f" for c in key.strip()):
        return (
            "the API key holds a character that cannot be sent in an HTTP header (a line "
            "break, a space, or a non-ASCII character such as a zero-width space or '…' "
            "pasted along with it); copy the key again"
        )
    return None


def check_account_id(account_id: object) -> str | None:
    """``account_id`` (``None`` stays ``None``) when it can go in a path: non-empty text
    without whitespace. Raises ``ValueError`` otherwise."""
    if account_id is None:
        return None
    if (
        not isinstance(account_id, str)
        or not account_id.strip()
        or any(c.isspace() for c in account_id)
    ):
        raise ValueError(f"account_id must be non-empty without whitespace: {account_id!r}")
    return account_id


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; refused when the key could leak through it."""
    if not isinstance(base_url, str) or any(c.isspace() or c == "\\" for c in base_url):
        raise ValueError("base_url must look like https://host (no spaces or backslashes)")
    try:
        connects_to = parse_url(base_url)  # the parser that really connects (urllib3)
    except ValueError:
        raise ValueError("base_url must look like https://host") from None
    split = urlsplit(base_url)
    if connects_to.scheme not in ("http", "https") or not connects_to.host:
        raise ValueError("base_url must look like https://host")
    if connects_to.auth or split.username or split.password or "@" in split.netloc:
        raise ValueError(
            "base_url must not hold credentials (user:password@): the API key is the only "
            "credential, and it comes from ALSONA_API_KEY or api_key="
        )
    host = connects_to.host.strip("[]").lower()
    if host != (split.hostname or "").lower():
        raise ValueError("base_url is ambiguous: its host reads differently to different parsers")
    if connects_to.scheme == "http" and not is_loopback(host):
        raise ValueError(
            f"refusing plain http:// to {host}: the API key would cross the network "
            "unencrypted. Use https://, or http:// only to a loopback address (127.0.0.1)."
        )
    return base_url.rstrip("/")
