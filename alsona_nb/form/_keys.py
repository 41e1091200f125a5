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

The same script sets what ipywidgets has no trait for (accessible names of slider handles,
``aria-pressed``, live regions, ``aria-invalid``, tab stops): the form sends it ``rules``.
"""

from __future__ import annotations

import anywidget
import traitlets

__all__ = ["KeyShield"]

_ESM = """
function render({ model, el }) {
  el.style.display = "none";
  const ATTR = "data-lm-suppress-shortcuts";
  let frames = 0;
  let root = null;
  let last = null;
  let pending = false;
  const shield = (target) => {
    if (target instanceof Element && !target.hasAttribute(ATTR)) target.setAttribute(ATTR, "true");
  };
  const apply = () => {
    if (!root) return;
    for (const [selector, name, value] of model.get("rules")) {
      for (const e of root.querySelectorAll(selector)) {
        if (value === null) { if (e.hasAttribute(name)) e.removeAttribute(name); }
        else if (e.getAttribute(name) !== value) e.setAttribute(name, value);
      }
    }
    for (const e of root.querySelectorAll('[title="null"]')) e.removeAttribute("title");
  };
  // The focused control was disabled or redrawn (Create while it sends): keep focus in the form.
  const rescue = () => {
    if (!last || (last.isConnected && !last.disabled)) return;
    const active = document.activeElement;
    // Still on the disabled control, or dropped to the page; anywhere else was on purpose.
    if (active && active !== document.body && active !== last) return;
    const target = root.querySelector(model.get("focus_fallback"));
    if (target) { last = target; target.focus(); }
  };
  const later = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; apply(); rescue(); });
  };
  const attach = () => {
    root = el.closest(model.get("root_selector"));
    if (!root) {
      if (frames++ < 600) requestAnimationFrame(attach);  // not in the page yet
      return;
    }
    if (root.dataset.alsonaKeys === "shielded") return;
    root.dataset.alsonaKeys = "shielded";
    root.setAttribute(ATTR, "true");
    root.addEventListener("focusin", (e) => { shield(e.target); last = e.target; }, true);
    // A text box with suggestions (the tags box) may take Enter without a change event
    // (Chromium): when the text is still there just after, say it is committed.
    root.addEventListener("keydown", (e) => {
      const box = e.target;
      const commits = model.get("enter_commits");
      if (e.key !== "Enter" || !commits || !(box instanceof Element) || !box.matches(commits)) {
        return;
      }
      setTimeout(() => { if (box.value) box.dispatchEvent(new Event("change")); }, 0);
    }, true);
    shield(document.activeElement && root.contains(document.activeElement)
      ? document.activeElement : null);
    new MutationObserver(later).observe(root, {
      subtree: true, childList: true, attributes: true,
      attributeFilter: ["disabled", "class", "title", "contenteditable"],
    });
    model.on("change:rules", later);
    const title = model.get("page_title");
    if (title) document.title = title;
    apply();
  };
  attach();
}
export default { render };
"""


class KeyShield(anywidget.AnyWidget):
    """An invisible widget that stops notebook shortcuts inside the closest ancestor matching
    ``root_selector`` (a CSS selector, ``.alsona-form`` by default), and sets the attributes
    ipywidgets cannot set.

    ``rules``: ``[selector, attribute, value]`` triples applied to every element under the
    root that matches ``selector`` (again whenever the views redraw); a ``None`` value removes
    the attribute. ``title="null"`` tooltips are removed. ``focus_fallback``: where the focus
    goes when the focused control is disabled or redrawn (so it never drops to the page).
    ``page_title``: the browser tab's title, when set (for an app page). ``enter_commits``:
    text boxes where Enter commits what was typed (the seat tags box).

    Place it in a box that is not displayed: where its script cannot load, nothing shows.
    """

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    root_selector = traitlets.Unicode(".alsona-form").tag(sync=True)
    rules = traitlets.List(traitlets.List(traitlets.Unicode(allow_none=True))).tag(sync=True)
    focus_fallback = traitlets.Unicode(".alsona-message").tag(sync=True)
    page_title = traitlets.Unicode("").tag(sync=True)
    enter_commits = traitlets.Unicode(".alsona-seats input.jupyter-widget-taginput").tag(sync=True)
