"""JupyterLab, Voila and headless Chromium for the browser tests (imported by test_browser.py).

Every server runs on 127.0.0.1, a free port and a random token, from a temporary root with its own
Jupyter config/data/runtime dirs, without ``ALSONA_*`` variables (so notebooks use the sandbox),
and is stopped together with every process it started.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
START_TIMEOUT = 90.0


def require_browser() -> None:
    """Skip (fail under CI) when Playwright or Debian's Chromium is missing, naming what is."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package 'playwright'")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if missing:
        message = "browser tests need " + " and ".join(missing)
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (never a browser that Playwright downloads)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def jupyter_env(home: Path, *, disabled: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment for a server: private Jupyter/IPython dirs under ``home``, the venv's
    kernelspec and lab extensions still on the path, no Alsona credentials, and the app's
    journal under ``home``. ``disabled``: lab extensions turned off in this config dir (what
    ``jupyter labextension disable`` writes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALSONA_")}
    env["ALSONA_APP_JOURNAL"] = str(home / "app-journal.jsonl")
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "IPYTHONDIR": home / "ipython",
        "JUPYTERLAB_SETTINGS_DIR": home / "config" / "lab" / "user-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "config" / "lab" / "workspaces",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    # Where pip put jupyterlab_widgets' lab extension and ipykernel's kernelspec.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("JUPYTER_PREFER_ENV_PATH", None)
    # No "would you like news?" toast over the page; nothing fetched from the network.
    notification = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    if disabled:
        labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {name: True for name in disabled}})
        )
    return env


@dataclass
class Server:
    """A running JupyterLab or Voila process (its own process group) and how to reach it."""

    proc: subprocess.Popen[bytes]
    base_url: str
    token: str
    log: Path
    leftovers: list[str] | None = None  # set by stop()

    def url(self, path: str = "") -> str:
        """``base_url/path`` with the token in the query."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self) -> list[str]:
        """SIGTERM the process group (Jupyter and Voila then shut their kernels down), wait,
        and kill whatever is left; kernels run in sessions of their own, so they are tracked
        by pid. Returns what had to be killed (empty after a clean shutdown)."""
        try:
            started = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            started = []
        killed = []
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                killed.append(f"server {self.proc.pid}")
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        with _suppress_gone():
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything else left in its group
        _, alive = psutil.wait_procs(started, timeout=10)
        for proc in alive:
            with _suppress_gone():
                killed.append(f"{proc.name()} {proc.pid}")
                proc.kill()
        psutil.wait_procs(alive, timeout=5)
        self.leftovers = killed
        return killed


def _suppress_gone() -> suppress:
    return suppress(ProcessLookupError, psutil.NoSuchProcess)


def _wait_ready(server: Server, ready_path: str | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    port = int(server.base_url.rsplit(":", 1)[1])
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            if ready_path is None:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            with urllib.request.urlopen(server.url(ready_path), timeout=2) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server not ready after {START_TIMEOUT:.0f}s:\n{server.log_tail()}")


@contextmanager
def _serve(
    cmd: list[str],
    cwd: Path,
    env: dict[str, str],
    port: int,
    token: str,
    log: Path,
    ready_path: str | None,
) -> Iterator[Server]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = Server(proc, f"http://127.0.0.1:{port}", token, log)
    try:
        _wait_ready(server, ready_path)
        yield server
    finally:
        server.stop()


def copy_notebooks(root: Path) -> Path:
    """A copy of the repository's notebooks/ under ``root`` (tests must not touch the originals)."""
    target = root / "notebooks"
    shutil.copytree(NOTEBOOKS, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return target


@contextmanager
def jupyterlab(
    home: Path, root: Path, *, disabled: tuple[str, ...] = (), args: tuple[str, ...] = ()
) -> Iterator[Server]:
    """JupyterLab serving ``root`` with its config, data and runtime dirs under ``home``
    (``disabled``: lab extensions turned off, see ``jupyter_env``; ``args``: more options)."""
    port, token = free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *args,
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = jupyter_env(home, disabled=disabled)
    with _serve(cmd, root, env, port, token, home / "jupyterlab.log", "api/status") as server:
        yield server


@contextmanager
def voila(home: Path, notebook: Path) -> Iterator[Server]:
    """Voila serving one notebook; connection files and kernels stay under ``home``."""
    port, token = free_port(), secrets.token_hex(16)
    connections = home / "voila-connections"
    connections.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "voila",
        notebook.name,
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        f"--token={token}",
        f"--Voila.connection_dir_root={connections}",
        f"--Voila.root_dir={notebook.parent}",
    ]
    # Voila renders (executes) the notebook on GET /, so readiness is a bare TCP connect.
    with _serve(
        cmd, notebook.parent, jupyter_env(home), port, token, home / "voila.log", None
    ) as server:
        yield server


# -- driving JupyterLab as a person would ---------------------------------------------------

_KERNEL_READY = """() => {
  const name = document.querySelector('.jp-NotebookPanel .jp-Toolbar-kernelName');
  const state = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
  return !!name && !!state && name.textContent.trim() !== 'No Kernel'
    && state.dataset.status === 'idle';
}"""
# A cell is queued ("[*]") synchronously when run; saved counts in the file say nothing about
# this kernel, so "done" means: its prompt was seen as "[*]" and now shows a number again.
_CODE_ONLY = """cells = cells.filter(
    c => (c.querySelector('.cm-content')?.textContent ?? 'x').trim() !== '');"""
_WATCH_PROMPTS = """(cells) => {
  CODE_ONLY
  window.__alsonaQueued = new Set();
  const mark = () => cells.forEach((cell, i) => {
    if (cell.querySelector('.jp-InputPrompt').textContent.includes('*')) {
      window.__alsonaQueued.add(i);
    }
  });
  window.__alsonaObserver?.disconnect();
  window.__alsonaObserver = new MutationObserver(mark);
  cells.forEach(c => window.__alsonaObserver.observe(c.querySelector('.jp-InputPrompt'),
    {subtree: true, childList: true, characterData: true}));
  mark();
}"""
_PROMPTS_DONE = """(cells) => {
  CODE_ONLY
  const state = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
  return cells.every((cell, i) => window.__alsonaQueued.has(i)
      && /^\\[\\d+\\]/.test(cell.querySelector('.jp-InputPrompt').textContent.trim()))
    && (!state || state.dataset.status === 'idle');
}"""


def open_notebook(page: Page, server: Server, path: str, timeout_ms: float = 90_000) -> None:
    """Open ``path`` in JupyterLab and wait until its kernel is really attached and idle.

    The toolbar says "idle" before any kernel is attached, and "Run All" then runs nothing,
    so the kernel name must have left "No Kernel" too."""
    page.goto(server.url(f"lab/tree/{path}"))
    # A restored workspace may ask which kernel to start: take the notebook's own.
    dialog = ".jp-Dialog:has-text('Select Kernel')"
    page.wait_for_function(
        "(text) => (" + _KERNEL_READY + ")() || [...document.querySelectorAll('.jp-Dialog')]"
        ".some(d => d.textContent.includes(text))",
        arg="Select Kernel",
        timeout=timeout_ms,
    )
    chooser = page.locator(dialog)
    if chooser.count():
        chooser.locator(".jp-mod-accept").click()
    page.wait_for_function(_KERNEL_READY, timeout=timeout_ms)


def _run_and_wait(page: Page, cells: Locator, start: Callable[[], None], timeout_ms: float) -> None:
    handles = cells.element_handles()
    assert handles, "no code cell to run"
    # Empty code cells are skipped by "Run All" (their prompt never changes).
    page.evaluate(_WATCH_PROMPTS.replace("CODE_ONLY", _CODE_ONLY), handles)
    start()
    page.wait_for_function(
        _PROMPTS_DONE.replace("CODE_ONLY", _CODE_ONLY), arg=handles, timeout=timeout_ms
    )


def run_all_cells(page: Page, timeout_ms: float = 90_000) -> None:
    """Run > Run All Cells from the menu bar, then wait until every code cell has run."""

    def start() -> None:
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    _run_and_wait(page, page.locator(".jp-NotebookPanel .jp-CodeCell"), start, timeout_ms)


def run_cell(page: Page, containing: str, timeout_ms: float = 60_000) -> None:
    """Click into the code cell whose source contains ``containing`` and press Ctrl+Enter
    (run it and stay: Shift+Enter on the last cell would add an empty cell below)."""
    cell = page.locator(".jp-NotebookPanel .jp-CodeCell").filter(
        has=page.locator(".jp-Editor", has_text=containing)
    )

    def start() -> None:
        cell.locator(".jp-Editor").click()
        page.keyboard.press("Control+Enter")

    _run_and_wait(page, cell, start, timeout_ms)


def open_notebook7(page: Page, server: Server, path: str, timeout_ms: float = 90_000) -> None:
    """Open ``path`` in Notebook 7 and wait until its kernel is idle."""
    page.goto(server.url(f"notebooks/{path}"))
    page.wait_for_function(_NB7_KERNEL_READY, timeout=timeout_ms)


_NB7_KERNEL_READY = """() => {
  const status = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator,'
    + ' [data-jp-item-name="kernelStatus"], .jp-KernelStatus');
  const name = document.querySelector('.jp-NotebookPanel .jp-Toolbar-kernelName,'
    + ' .jp-NotebookKernelName, [data-jp-item-name="kernelName"]');
  const text = (name?.textContent ?? '').trim();
  return !!document.querySelector('.jp-Notebook .jp-Cell') && !!name && text !== ''
    && text !== 'No Kernel' && (!status || !status.dataset.status
      || status.dataset.status === 'idle');
}"""


def choose_theme(page: Page, theme: str) -> None:
    """Settings > Theme > ``theme`` ("JupyterLab Light" or "JupyterLab Dark"), as a person
    would: Lab applies it to the open page, no reload, no second kernel."""
    page.get_by_role("menuitem", name="Settings", exact=True).click()
    page.locator(".lm-Menu .lm-Menu-itemLabel").get_by_text("Theme", exact=True).hover()
    page.locator(".lm-Menu .lm-Menu-itemLabel").get_by_text(theme, exact=True).click()


def wait_for_theme(page: Page, theme: str) -> None:
    light = "true" if theme.endswith("Light") else "false"
    page.wait_for_function(f"document.body.dataset.jpThemeLight === '{light}'")


# -- what the page shows ---------------------------------------------------------------------

CELLS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(c => [
  ['jp-CodeCell', 'jp-MarkdownCell', 'jp-RawCell'].find(k => c.classList.contains(k)) ?? '?',
  (c.querySelector('.jp-InputArea-editor .cm-content')?.textContent ?? '').slice(0, 60)])"""

# Every control of the form a person can reach with the keyboard or the mouse.
FOCUSABLE = """(form) => Array.from(
    form.querySelectorAll('[data-alsona-focus]')).forEach(e => delete e.dataset.alsonaFocus)
  || Array.from(form.querySelectorAll(
    'input, select, textarea, button, [contenteditable="true"], [tabindex]'))
  .filter(e => e.tabIndex >= 0 && !e.disabled && e.offsetParent !== null)
  .map((e, i) => { e.dataset.alsonaFocus = String(i); return i; })"""

# WCAG contrast of an element's text against what is really behind it: the backgrounds of
# its ancestors composited (colours with alpha, color-mix results) over white.
CONTRAST = """(el) => {
  const parse = (s) => {
    let m = s.match(/^rgba?\\(([^)]+)\\)/);
    if (m) { const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
             return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; }
    m = s.match(/^color\\(srgb ([^)]+)\\)/);
    if (m) { const p = m[1].split(/[\\s\\/]+/).filter(Boolean).map(Number);
             return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1]; }
    throw new Error('unknown colour ' + s);
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3]));
  const chain = [];
  for (let e = el; e; e = e.parentElement) chain.unshift(e);
  let bg = [255, 255, 255];
  for (const e of chain) bg = over(parse(getComputedStyle(e).backgroundColor), bg);
  const fg = over(parse(getComputedStyle(el).color), bg);
  const lum = (c) => { const [r, g, b] = c.map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [a, b] = [lum(fg), lum(bg)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""

# WCAG contrast between the backgrounds two elements really show (ancestors composited).
BG_CONTRAST = """([a, b]) => {
  const parse = (s) => {
    let m = s.match(/^rgba?\\(([^)]+)\\)/);
    if (m) { const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
             return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; }
    m = s.match(/^color\\(srgb ([^)]+)\\)/);
    if (m) { const p = m[1].split(/[\\s\\/]+/).filter(Boolean).map(Number);
             return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1]; }
    throw new Error('unknown colour ' + s);
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3]));
  const bg = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let c = [255, 255, 255];
    for (const e of chain) c = over(parse(getComputedStyle(e).backgroundColor), c);
    return c;
  };
  const lum = (c) => { const [r, g, b] = c.map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [x, y] = [lum(bg(a)), lum(bg(b))];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}"""

KEYS = ("d", "d", "m", "r", "a", "y", "1")


def press_keys_on_every_control(page: Page, form: Locator, before: object) -> int:
    """Focus each focusable control of ``form`` in turn, press ``KEYS`` on it, and check that
    the notebook's cells (``CELLS``; skipped when ``before`` is None) still equal ``before``.
    Controls are listed again before each one (keys may add or remove some). Returns how many
    controls got the keys."""
    i = 0
    while i < len(form.evaluate(FOCUSABLE)):
        control = form.locator(f'[data-alsona-focus="{i}"]')
        what = control.evaluate("e => e.outerHTML.slice(0, 160)")
        control.focus()
        for key in KEYS:
            page.keyboard.press(key)
        if before is not None:
            after = page.evaluate(CELLS)
            assert after == before, f"keys on control {i} changed the notebook: {what}"
        i += 1
    assert i > 20, i
    return i


def screenshot(page: Page, name: str) -> Path:
    """Save the page as test-artifacts/<name>.png (git-ignored) and return the path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


__all__ = [
    "ARTIFACTS",
    "BG_CONTRAST",
    "CELLS",
    "CHROMIUM",
    "CONTRAST",
    "FOCUSABLE",
    "KEYS",
    "REPO",
    "Server",
    "choose_theme",
    "chromium",
    "copy_notebooks",
    "jupyterlab",
    "open_notebook",
    "open_notebook7",
    "press_keys_on_every_control",
    "require_browser",
    "run_all_cells",
    "run_cell",
    "screenshot",
    "voila",
    "wait_for_theme",
]
