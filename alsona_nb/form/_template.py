"""Templates: the form's settings as a small JSON file, without any id, to start from again.

A template holds ``name``, ``status``, ``seats``, ``schedule`` and ``timezone`` (and ``zone``
when known); never ``campaign_id``, ``account_id`` or ``created_at``, so loading it starts a
new campaign with an id of its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["TEMPLATE_FIELDS", "read_template", "template_json"]

TEMPLATE_FIELDS = ("name", "status", "seats", "schedule", "timezone", "zone")
_MAX_BYTES = 64_000  # a template is small; anything bigger is not one


def template_json(fields: Mapping[str, Any]) -> str:
    """``fields`` (the form's values) as template JSON: the template fields only."""
    data = {k: fields[k] for k in TEMPLATE_FIELDS if fields.get(k) is not None}
    data = {"alsona_template": 1, **data}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read_template(source: str | os.PathLike[str] | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """The template fields from a path, the file's bytes, or a dict. Ids in it are dropped.
    Raises ``ValueError`` for something that is not a template (not JSON, not an object, too
    big) and ``OSError`` for a file that cannot be read."""
    if isinstance(source, Mapping):
        data: Any = dict(source)
    else:
        raw = source if isinstance(source, bytes) else Path(source).read_bytes()
        if len(raw) > _MAX_BYTES:
            raise ValueError(f"a template is a small JSON file; this one has {len(raw)} bytes")
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a template (a JSON file is expected): {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("not a template: the file should hold a JSON object")
    data = data.get("campaign", data)  # a request body works too
    if not isinstance(data, dict):
        raise ValueError("not a template: 'campaign' should be an object")
    return {k: data[k] for k in TEMPLATE_FIELDS if k in data}
