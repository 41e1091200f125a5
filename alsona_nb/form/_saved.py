"""What a saved notebook keeps of a form: its placeholder, never a widget view.

A widget view saved without its widget state reads "Error displaying widget: model not found"
wherever the notebook is opened next, and every save changes the file. ``placeholder_outputs``
is a Jupyter server pre-save hook that keeps, for each form output, only what a reader should
see (the form's HTML placeholder and its one-line text), and drops stored widget state:

    jupyter lab --ContentsManager.pre_save_hook=alsona_nb.form.placeholder_outputs
"""

from __future__ import annotations

from typing import Any

__all__ = ["WIDGET_VIEW", "placeholder_outputs"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_FORM = "<CampaignForm "


def placeholder_outputs(model: dict[str, Any], **_kwargs: Any) -> None:
    """Pre-save hook: in a notebook, drop the widget view of every ``CampaignForm`` output
    (its placeholder stays) and the stored widget state. Other files and outputs are left
    as they are. Changes ``model`` in place; never raises for an unexpected shape."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    content = model["content"]
    metadata = content.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("widgets", None)
    for cell in content.get("cells") or ():
        for output in (cell.get("outputs") or ()) if isinstance(cell, dict) else ():
            data = output.get("data") if isinstance(output, dict) else None
            if not isinstance(data, dict) or WIDGET_VIEW not in data:
                continue
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            if text.startswith(_FORM):
                data.pop(WIDGET_VIEW)
