"""Keystrokes stay in the form: no key pressed on a control may run a notebook command.

JupyterLab and Notebook 7 run their command-mode shortcuts (``d d`` deletes a cell, ``m``
makes it Markdown, ``r`` Raw, ``a`` inserts a cell, ``1`` a heading) through Lumino's
``CommandRegistry``, which matches each shortcut's selector
(``.jp-Notebook.jp-mod-commandMode:not(.jp-mod-readWrite) :focus``) by walking up from the
key's target. A focused drop-down, tick box, slider handle or button inside a widget output is
not "read-write", so it matches right away (jupyter-widgets/ipywidgets#3912). The walk stops
at the first element carrying ``data-lm-suppress-shortcuts`` (Lumino's own opt-out, used by
JupyterLab's shortcut editor), and it starts at the target itself: the attribute must be on
the focused control, not only on an ancestor. Stopping the event instead does not work in
Notebook 7, which listens in the capture phase, before any element sees the key.

ipywidgets can set classes but not attributes, so ``KeyShield`` is a tiny ``anywidget`` (no
build step; JupyterLab, Notebook 7, Voila, VS Code, Colab) placed inside the form. It finds
the form's root element (by its CSS class) and, whenever a control inside gets the focus
(``focusin``), marks that control; views that draw their controls anew are covered because the
mark is set at focus time. Keys then do what they do in the control, and nothing else; outside
the form Jupyter behaves as usual. Where there is no Lumino (Voila, VS Code, Colab) the
attribute is inert.
"""

from __future__ import annotations

import anywidget
import traitlets

__all__ = ["KeyShield"]

_ESM = """
function render({ model, el }) {
  el.style.display = "none";
  const selector = model.get("root_selector");
  let frames = 0;
  const ATTR = "data-lm-suppress-shortcuts";
  const shield = (target) => {
    if (target instanceof Element && !target.hasAttribute(ATTR)) target.setAttribute(ATTR, "true");
  };
  const attach = () => {
    const root = el.closest(selector);
    if (!root) {
      if (frames++ < 600) requestAnimationFrame(attach);  // not in the page yet
      return;
    }
    if (root.dataset.alsonaKeys === "shielded") return;
    root.dataset.alsonaKeys = "shielded";
    root.setAttribute(ATTR, "true");
    root.addEventListener("focusin", (event) => shield(event.target), true);
    shield(document.activeElement && root.contains(document.activeElement)
      ? document.activeElement : null);
  };
  attach();
}
export default { render };
"""


class KeyShield(anywidget.AnyWidget):
    """An invisible widget that stops notebook shortcuts inside the closest ancestor matching
    ``root_selector`` (a CSS selector, ``.alsona-form`` by default)."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    root_selector = traitlets.Unicode(".alsona-form").tag(sync=True)
