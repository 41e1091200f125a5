"""Reading lists that come in cursor pages (campaigns, seats), with a bound: a server whose
cursor never ends, or that sends empty pages with a cursor, ends the read with a notice
instead of looping for ever."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from ._calls import Caller
from ._errors import UnexpectedResponseError, notify
from ._http import Answer

#: The most pages one read follows (at the sandbox's 100 a page, a million campaigns).
MAX_PAGES = 10_000


def pages(
    caller: Caller, url: str, key: str, *, max_pages: int | None = None
) -> Iterator[list[Any]]:
    """The items of each page of the list at ``url``, following ``last_key`` to its end.

    Raises ``UnexpectedResponseError`` when the server repeats a cursor or a page has no
    list; a page past ``max_pages``, or an empty page that still has a cursor, ends the read
    with an ``AlsonaWarning``."""
    limit = MAX_PAGES if max_pages is None else max_pages
    last_key: Any = None
    seen: set[str] = set()
    for number in range(1, limit + 1):
        suffix = ""
        if last_key is not None:
            token = last_key if isinstance(last_key, str) else json.dumps(last_key)
            if token in seen:
                raise UnexpectedResponseError(f"the server repeated a page of {key}")
            seen.add(token)
            suffix = "?last_key=" + quote(token, safe="")
        data, items = caller.read(
            url + suffix, lambda answer: _page(answer, key), note=f" (no list of {key} in it)"
        )
        yield items
        last_key = data.get("last_key")
        if last_key is None:
            return
        if not items:
            notify(
                f"the server sent an empty page of {key} that still points to more; stopped there"
            )
            return
        if number == limit:
            notify(f"stopped reading {key} after {limit} pages; the list may go on")
    return


def _page(answer: Answer, key: str) -> tuple[dict[str, Any], list[Any]] | None:
    try:
        data = json.loads(answer.body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for name in (key, "items", "data"):
        if isinstance(data.get(name), list):
            return data, data[name]
    return None


class _PageBar:
    """A progress bar that shows only once a second page is read (one page is instant)."""

    def __init__(self, show: bool, desc: str) -> None:
        self.show, self.desc, self.pages, self.bar = show, desc, 0, None

    def update(self, n: int) -> None:
        self.pages += n
        if self.bar is None and self.show and self.pages >= 2:
            from tqdm.auto import tqdm

            self.bar = tqdm(desc=self.desc, unit=" page", initial=self.pages - n)
        if self.bar is not None:
            self.bar.update(n)


@contextlib.contextmanager
def page_bar(show: bool, desc: str) -> Iterator[_PageBar]:
    """A ``_PageBar`` closed at the end of the read."""
    bar = _PageBar(show, desc)
    try:
        yield bar
    finally:
        if bar.bar is not None:
            bar.bar.close()
