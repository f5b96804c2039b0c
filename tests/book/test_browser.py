"""The built book in a real browser, with no network.

Debian's Chromium, driven by Playwright (``executable_path``: no browser download), opens every page
listed in ``_toc.yml`` from a local HTTP server on 127.0.0.1 and checks what a reader sees: nothing is
requested from another host (such requests are aborted and reported), nothing fails to load, no
JavaScript error, math typeset by the bundled MathJax, figures loaded and captioned, glued numbers in
the prose, working search, launch and download buttons, a dark mode that keeps figures readable and
internal links that resolve. ``test_the_checks_catch_a_broken_page`` runs the same check functions
on a tampered copy of a page to show that they fail when they should.

Without Chromium (``scripts/test.sh`` installs Debian's ``chromium`` when run as root on Debian) these
tests are skipped with the reason in pytest's summary (``-rs``). ``BOOK_CHROMIUM`` names another
Chromium binary. ``BOOK_SCREENSHOTS=DIR`` saves a chapter page in light and dark mode to DIR.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
    "--no-first-run", "--no-default-browser-check", "--metrics-recording-only", "--mute-audio",
    # belt and braces: no host name resolves, so nothing can slip past the request routing below
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
TIMEOUT_MS = 20_000


# --------------------------------------------------------------------------- what the book lists


def toc_files(toc: dict | None = None) -> list[str]:
    """Every ``file`` in ``_toc.yml`` (root, parts, chapters, nested sections), in reading order."""
    toc = toc if toc is not None else yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] if "root" in toc else []

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return [re.sub(r"\.(md|ipynb|rst)$", "", f) for f in files]


def notebook_pages() -> list[str]:
    return [f for f in toc_files() if (ROOT / f"{f}.ipynb").is_file()]


def source_markdown(page: str) -> str:
    """The markdown of a toc page's source (markdown cells of a notebook, or the .md file)."""
    nb = ROOT / f"{page}.ipynb"
    if nb.is_file():
        cells = json.loads(nb.read_text())["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    md = ROOT / f"{page}.md"
    return md.read_text() if md.is_file() else ""


def declared_figures(page: str) -> int:
    """Code cells of a notebook that declare a captioned figure (``mystnb.figure`` metadata)."""
    nb = ROOT / f"{page}.ipynb"
    if not nb.is_file():
        return 0
    cells = json.loads(nb.read_text())["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code" and "figure" in c.get("metadata", {}).get("mystnb", {}))


GLUE_ROLE = re.compile(r"\{glue(?::(?:text|any|math))?\}`[^`]+`")


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


# --------------------------------------------------------------------------- browser and server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files; remembers every (path, status); answers the browser's own /favicon.ico."""

    log: list = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/favicon.ico":
            # Chromium asks for /favicon.ico by itself; on GitHub Pages that path is outside the book.
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def log_request(self, code="-", size="-"):
        self.log.append((self.path, int(code) if str(code).isdigit() else 0))

    def log_message(self, *args):
        pass


class LocalServer:
    """``http.server`` on 127.0.0.1 with an ephemeral port, serving one folder from a thread."""

    def __init__(self, directory: Path):
        handler = type("Handler", (_QuietHandler,), {"log": []})
        self.log = handler.log
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.origin}/{path.lstrip('/')}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def chromium_executable() -> str | None:
    for cand in (os.environ.get("BOOK_CHROMIUM"), "chromium", "google-chrome", "google-chrome-stable"):
        if cand and (found := shutil.which(cand)):
            return found
    return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    exe = chromium_executable()
    if exe is None:
        pytest.skip("browser tests skipped: no Chromium on PATH (Debian: apt-get install chromium; "
                    "scripts/test.sh does it when run as root on Debian; or set BOOK_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests skipped: playwright is not installed (pip install -r requirements.txt)")
    with sync_playwright() as pw:
        # A persistent context gives a fresh, throw-away user data dir we control.
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=exe, headless=True,
            args=BROWSER_ARGS, viewport={"width": 1280, "height": 900}, service_workers="block")
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()


@pytest.fixture(scope="session")
def server(html_dir):
    srv = LocalServer(html_dir)
    yield srv
    srv.close()


@pytest.fixture()
def fresh_page(browser):
    """A new tab with empty localStorage (theme choice) for this test."""
    page = browser.new_page()
    yield page
    if page.url.startswith("http"):
        page.evaluate("localStorage.clear()")
    page.close()


# --------------------------------------------------------------------------- one visit, all facts

COLLECT_JS = r"""
() => {
  const article = document.querySelector('main article, article.bd-article, main') || document.body;
  const math = Array.from(article.querySelectorAll('.math'));
  // Text a reader sees outside code, scripts and typeset math: raw TeX must not be left there.
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: n => {
    for (let e = n.parentElement; e && e !== article.parentElement; e = e.parentElement) {
      if (['PRE', 'CODE', 'SCRIPT', 'STYLE', 'TEXTAREA', 'MJX-CONTAINER'].includes(e.tagName)) return NodeFilter.FILTER_REJECT;
    }
    return NodeFilter.FILTER_ACCEPT;
  }});
  let prose = '';
  for (let n = walker.nextNode(); n; n = walker.nextNode()) prose += n.textContent;
  const images = Array.from(article.querySelectorAll('img')).map(img => {
    const fig = img.closest('figure');
    const cap = fig ? fig.querySelector('figcaption') : null;
    return {src: img.currentSrc || img.src, complete: img.complete, naturalWidth: img.naturalWidth,
            inFigure: !!fig, caption: cap ? cap.textContent.trim() : null,
            cellOutput: !!img.closest('.cell_output, .output')};
  });
  const figures = Array.from(article.querySelectorAll('figure')).map(f => ({
    id: f.id, hasImage: !!f.querySelector('img'),
    caption: (f.querySelector('figcaption') || {textContent: ''}).textContent.trim()}));
  const links = Array.from(document.querySelectorAll('a[href], link[href], script[src], img[src], iframe[src]'))
    .map(e => e.href || e.src).filter(Boolean);
  // Launch links by their label: Bootstrap moves the title attribute away when it sets up tooltips.
  const pick = (menu, label) => {
    const a = Array.from(document.querySelectorAll(menu + ' a')).find(a => a.textContent.trim() === label);
    return a ? a.getAttribute('href') : null; };
  return {
    title: document.title,
    mathjaxLoaded: !!(window.MathJax && window.MathJax.startup),
    nMath: math.length,
    nMathTypeset: math.filter(m => m.querySelector('mjx-container')).length,
    nMjx: document.querySelectorAll('mjx-container').length,
    mathErrors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 5),
    prose: prose,
    images: images,
    figures: figures,
    pasted: Array.from(article.querySelectorAll('[class*="pasted-"]')).map(e => e.textContent.trim()),
    links: links,
    buttons: {colab: pick('.dropdown-launch-buttons', 'Colab'), binder: pick('.dropdown-launch-buttons', 'Binder'),
              download: pick('.dropdown-download-buttons', '.ipynb')},
  };
}
"""


def visit(context, server: LocalServer, path: str) -> dict:
    """Open one page; return what it requested, what failed, what it logged and what it shows."""
    page = context.new_page()
    report = {"path": path, "external": [], "failed": [], "console_errors": []}
    origin = server.origin

    def is_local(url: str) -> bool:
        return url.startswith(origin + "/") or url.split(":", 1)[0] in ("data", "blob", "about")

    def note_external(url: str) -> None:
        if not is_local(url) and url not in report["external"]:
            report["external"].append(url)

    def route(r):
        if is_local(r.request.url):
            r.continue_()
        else:
            note_external(r.request.url)
            r.abort("blockedbyclient")

    page.route("**/*", route)
    page.on("request", lambda req: note_external(req.url))
    page.on("websocket", lambda ws: note_external(ws.url))
    page.on("requestfailed", lambda r: r.url not in report["external"]
            and report["failed"].append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and report["failed"].append(f"{r.url} (HTTP {r.status})"))
    page.on("console", lambda m: m.type == "error" and report["console_errors"].append(m.text))
    page.on("pageerror", lambda e: report["console_errors"].append(f"uncaught: {e}"))
    try:
        page.goto(server.url(path), wait_until="load")
        page.evaluate("async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
                      " await MathJax.startup.promise; }")
        page.evaluate("""async () => {  // load every image, lazy ones included, before looking
            const imgs = Array.from(document.images);
            imgs.forEach(i => { i.loading = 'eager'; });
            const loaded = imgs.map(i => i.complete ? null : new Promise(r => {
                i.addEventListener('load', r); i.addEventListener('error', r); }));
            await Promise.race([Promise.all(loaded), new Promise(r => setTimeout(r, 10000))]); }""")
        page.wait_for_load_state("networkidle")  # MathJax fetches fonts and components lazily
        report.update(page.evaluate(COLLECT_JS))
    finally:
        page.close()
    # Chromium's own message for a failed load duplicates the request already listed in "failed".
    report["console_errors"] = [m for m in report["console_errors"]
                                if not (m.startswith("Failed to load resource") and report["failed"])]
    return report


# --------------------------------------------------------------------------- the checks (lists of problems)


def network_problems(r: dict) -> list[str]:
    return ([f"request to another host: {u}" for u in r["external"]]
            + [f"failed request: {u}" for u in r["failed"]]
            + [f"console error: {m}" for m in r["console_errors"]])


RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\frac\{")


def math_problems(r: dict, source_has_math: bool) -> list[str]:
    problems = []
    if (r["nMath"] or source_has_math) and not r["mathjaxLoaded"]:
        problems.append("page has math but MathJax did not load")
    if r["nMath"] and r["nMathTypeset"] < r["nMath"]:
        problems.append(f"{r['nMath'] - r['nMathTypeset']} of {r['nMath']} formulas not typeset")
    if source_has_math and r["nMjx"] == 0:
        problems.append("the source has math but no MathJax output (mjx-container) is on the page")
    problems += [f"MathJax error: {e}" for e in r["mathErrors"]]
    if m := RAW_TEX.search(r["prose"]):
        problems.append(f"raw TeX left in the text: ...{r['prose'][max(0, m.start() - 40):m.end() + 40]}...")
    return problems


def figure_problems(r: dict, n_declared: int = 0) -> list[str]:
    problems = []
    for img in r["images"]:
        if not img["complete"] or img["naturalWidth"] == 0:
            problems.append(f"image did not load: {img['src']}")
        if img["cellOutput"] and not img["caption"]:
            problems.append(f"output image without a caption (figcaption): {img['src']}")
    for fig in r["figures"]:
        if not fig["caption"]:
            problems.append(f"figure without a caption: #{fig['id']}")
    shown = sum(1 for f in r["figures"] if f["hasImage"])
    if shown < n_declared:
        problems.append(f"the notebook declares {n_declared} captioned figures, the page shows {shown} "
                        "(did the figure cells display their figure? MPLBACKEND=Agg hides them)")
    return problems


GLUE_LEFTOVERS = re.compile(r"\{glue[:}]|np\.(?:float|int)\d*\(|<myst_nb")


def glue_problems(r: dict, n_roles: int = 0) -> list[str]:
    problems = []
    if m := GLUE_LEFTOVERS.search(r["prose"]):
        problems.append(f"unresolved glue or raw value in the text: ...{r['prose'][max(0, m.start() - 40):m.end() + 40]}...")
    empty = [t for t in r["pasted"] if t.lower() in ("", "nan", "inf", "-inf", "none")]
    if empty:
        problems.append(f"{len(empty)} glued values are empty or not a number: {empty[:5]}")
    if len(r["pasted"]) < n_roles:
        problems.append(f"the source has {n_roles} glue roles but the page shows {len(r['pasted'])} glued values")
    return problems


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - local server only
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def link_problems(urls, origin: str) -> list[str]:
    """Every same-origin URL answers 200, and a #fragment into an HTML page names an existing id."""
    problems, pages = [], {}
    targets = sorted({u for u in urls if u.startswith(origin + "/")})
    for url in targets:
        base, _, frag = url.partition("#")
        if base not in pages:
            pages[base] = fetch(base)
        status, body = pages[base]
        if status != 200:
            problems.append(f"{url} -> HTTP {status}")
        elif frag and base.split("?")[0].endswith(".html"):
            frag = urllib.parse.unquote(frag)
            if not re.search(rf"""\b(?:id|name)=["']{re.escape(html.escape(frag))}["']""", body.decode("utf-8", "replace")):
                problems.append(f"{url} -> no element with id {frag!r}")
    return problems


def expected_launch_targets(page: str) -> dict:
    """Colab, Binder and download targets a notebook page must offer, from ``_config.yml``."""
    cfg = book_config()
    repo = cfg["repository"]["url"].rstrip("/")
    owner_repo = urllib.parse.urlparse(repo).path.strip("/")
    branch = cfg["repository"].get("branch", "main")
    prefix = (cfg["repository"].get("path_to_book") or "").strip("/")
    nb_path = f"{prefix}/{page}.ipynb" if prefix else f"{page}.ipynb"
    launch = cfg.get("launch_buttons", {})
    interface = "lab/tree" if launch.get("notebook_interface") == "jupyterlab" else "tree"
    return {
        "colab": f"{launch['colab_url'].rstrip('/')}/github/{owner_repo}/blob/{branch}/{nb_path}",
        "binder": f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{owner_repo}/{branch}?urlpath={interface}/{nb_path}",
        "download_suffix": f"_sources/{page}.ipynb",
    }


def dark_mode_problems(page, shots: Path | None = None, tag: str = "") -> list[str]:
    """Switch the theme with its toggle; the page must turn dark and figures must stay readable."""
    problems = []
    before = page.evaluate("document.documentElement.dataset.theme")
    bg_before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    if shots:
        _screenshots(page, shots, f"{tag}light")
    for _ in range(3):  # the toggle cycles through auto, light and dark
        if page.evaluate("document.documentElement.dataset.theme") == "dark":
            break
        page.locator(".theme-switch-button").first.click()
    after = page.evaluate("document.documentElement.dataset.theme")
    if before == after or after != "dark":
        return [f"the theme toggle did not switch to dark (data-theme {before!r} -> {after!r})"]
    page.wait_for_timeout(300)  # let the transition settle before looking
    bg_after = page.evaluate("getComputedStyle(document.body).backgroundColor")
    if luminance(bg_after) > 0.3 or bg_after == bg_before:
        problems.append(f"data-theme is dark but the page background is {bg_after}")
    if shots:
        _screenshots(page, shots, f"{tag}dark")
    figures = page.evaluate(r"""() => Array.from(document.querySelectorAll('main figure img, article figure img')).map(img => {
        let opacity = 1, hidden = false;
        for (let e = img; e; e = e.parentElement) {
          const s = getComputedStyle(e);
          opacity *= parseFloat(s.opacity);
          if (s.visibility === 'hidden' || s.display === 'none') hidden = true;
        }
        const s = getComputedStyle(img), box = img.getBoundingClientRect();
        let corner = null;
        try {
          const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
          const g = c.getContext('2d'); g.drawImage(img, 0, 0);
          corner = Array.from(g.getImageData(1, 1, 1, 1).data);
        } catch (e) { corner = String(e); }
        const cap = img.closest('figure').querySelector('figcaption');
        return {src: img.src, opacity, hidden, filter: s.filter, width: box.width, height: box.height,
                corner, captionColor: cap ? getComputedStyle(cap).color : null};
      })""")
    for f in figures:
        name = f["src"].rsplit("/", 1)[-1]
        if f["hidden"] or f["opacity"] < 0.9 or f["width"] < 10 or f["height"] < 10:
            problems.append(f"figure invisible in dark mode: {name} (opacity {f['opacity']}, {f['width']}x{f['height']})")
        if "invert" in f["filter"] or re.search(r"brightness\(0?\.[0-5]", f["filter"]):
            problems.append(f"figure darkened or inverted in dark mode: {name} (filter {f['filter']})")
        if not isinstance(f["corner"], list) or f["corner"][3] < 250 or min(f["corner"][:3]) < 230:
            problems.append(f"figure has no opaque light background, unreadable on a dark page: {name} (pixel {f['corner']})")
        if f["captionColor"] and contrast(f["captionColor"], bg_after) < 4.5:
            problems.append(f"caption of {name} has contrast {contrast(f['captionColor'], bg_after):.1f} < 4.5 in dark mode")
    return problems


def _screenshots(page, shots: Path, name: str) -> None:
    """The top of the page and its first figure, for a person to look at."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / f"{name}.png"))
    figure = page.locator("main figure").first
    if figure.count():
        figure.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"{name}-figure.png"))
        page.evaluate("window.scrollTo(0, 0)")


def _rgb(css: str) -> tuple[float, float, float]:
    r, g, b = (float(x) for x in re.findall(r"[\d.]+", css)[:3])
    return r / 255, g / 255, b / 255


def luminance(css: str) -> float:
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in _rgb(css)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# --------------------------------------------------------------------------- tests on the built book


@pytest.fixture(scope="session")
def visits(browser, server) -> dict:
    """Every toc page, visited once."""
    return {page: visit(browser, server, f"{page}.html") for page in toc_files()}


def _report(problems: dict) -> str:
    return "\n".join(f"{page}: {p}" for page, ps in problems.items() for p in ps)


def test_every_toc_page_loads_offline_without_errors(visits):
    problems = {page: network_problems(r) for page, r in visits.items()}
    assert not any(problems.values()), "\n" + _report(problems)


def test_math_is_typeset(visits):
    problems = {}
    for page, r in visits.items():
        src = source_markdown(page)
        prose = re.sub(r"```.*?```|`[^`\n]*`", "", src, flags=re.S)  # dollars in code are not math
        has_math = "{math}" in src or bool(re.search(r"\$[^$\n]+\$|\\begin\{", prose))
        problems[page] = math_problems(r, has_math)
    assert not any(problems.values()), "\n" + _report(problems)
    assert any(r["nMjx"] for r in visits.values()), "no page of the book has typeset math"


def test_figures_load_and_have_captions(visits):
    problems = {page: figure_problems(r, declared_figures(page)) for page, r in visits.items()}
    assert not any(problems.values()), "\n" + _report(problems)


def test_glued_numbers_appear_in_the_prose(visits):
    problems = {page: glue_problems(r, len(GLUE_ROLE.findall(source_markdown(page)))) for page, r in visits.items()}
    assert not any(problems.values()), "\n" + _report(problems)
    for page in notebook_pages():
        if GLUE_ROLE.search(source_markdown(page)):
            assert any(re.search(r"\d", t) for t in visits[page]["pasted"]), f"{page}: no glued number shown"


def test_every_internal_link_resolves(visits, server):
    urls = {u for r in visits.values() for u in r["links"]}
    problems = link_problems(urls, server.origin)
    assert not problems, "\n".join(problems)


def test_launch_and_download_buttons_point_at_the_notebook(visits, server):
    pages = notebook_pages()
    assert pages, "the toc lists no notebook"
    problems = {}
    for page in pages:
        want, got, ps = expected_launch_targets(page), visits[page]["buttons"], []
        for key in ("colab", "binder"):
            if got[key] != want[key]:
                ps.append(f"{key} button {got[key]!r}, expected {want[key]!r}")
        href = got["download"]
        if not href or not href.endswith(want["download_suffix"]):
            ps.append(f"download button {href!r}, expected .../{want['download_suffix']}")
        else:
            status, body = fetch(server.url(urllib.parse.urljoin(f"/{page}.html", href)))
            if status != 200 or "cells" not in json.loads(body or b"{}"):
                ps.append(f"download {href} -> HTTP {status}, not a notebook")
        problems[page] = ps
    assert not any(problems.values()), "\n" + _report(problems)


def test_launch_buttons_open_in_the_menu(fresh_page, server):
    page = fresh_page
    page.goto(server.url(f"{notebook_pages()[0]}.html"))
    for menu, labels in ((".dropdown-launch-buttons", ("Colab", "Binder")), (".dropdown-download-buttons", (".ipynb",))):
        items = [page.locator(f"{menu} a", has_text=label).first for label in labels]
        assert not any(item.is_visible() for item in items), f"{menu} is open before a click"
        page.locator(f"{menu} button").first.click()
        for item in items:
            item.wait_for(state="visible", timeout=5000)
        page.keyboard.press("Escape")
        page.mouse.move(0, 0)  # the theme also opens these menus on hover
        items[0].wait_for(state="hidden", timeout=5000)


def test_search_finds_a_term_of_a_known_page(fresh_page, server, visits):
    target = notebook_pages()[0]
    title = visits[target]["title"].split("\u2014")[0]
    term = max(re.findall(r"[A-Za-z]{5,}", title), key=len)
    page = fresh_page
    page.goto(server.url(f"search.html?q={urllib.parse.quote(term)}"))
    page.wait_for_function("() => { const s = document.querySelector('#search-results .search-summary');"
                           " return s && /found|did not match/.test(s.textContent); }")
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(a => a.href)")
    assert any(f"/{target}.html" in h for h in hrefs), f"searching {term!r} did not find {target}: {hrefs}"
    page.goto(server.url("search.html?q=qzxwvjkplm"))
    page.wait_for_function("() => { const s = document.querySelector('#search-results .search-summary');"
                           " return s && /found|did not match/.test(s.textContent); }")
    assert not page.query_selector_all("#search-results ul.search li"), "a nonsense word found pages"


def test_dark_mode_switches_and_keeps_figures_readable(fresh_page, server, visits):
    with_figures = [p for p in notebook_pages() if visits[p]["figures"]] or notebook_pages()
    page = fresh_page
    page.goto(server.url(f"{with_figures[0]}.html"))
    page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
    shots = os.environ.get("BOOK_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    problems = dark_mode_problems(page, Path(shots) if shots else None, tag=Path(with_figures[0]).name + "-")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- the checks can fail

TAMPER = """
<p>Raw TeX the reader should never see: \\(x^2\\).</p>
<p>A result of <span class="pasted-text"></span> and an unresolved {glue:text}`acc_few`.</p>
<figure id="fig-broken"><img src="../_images/no-such-figure.png" alt=""><figcaption>Missing image</figcaption></figure>
<figure id="fig-nocaption"><img src="../_static/images/logo_colab.png" alt=""></figure>
<p><a href="no-such-page.html">a dead link</a> and <a href="#no-such-anchor">a dead anchor</a></p>
<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>
<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
<script>console.error("boom: a script failed");</script>
<style>html[data-theme=dark] figure img { filter: invert(1) !important; opacity: 0.2 !important; }</style>
"""


def test_the_checks_catch_a_broken_page(browser, html_dir, tmp_path):
    """A copy of a chapter with a missing image, a CDN script and other faults fails every check."""
    copy = tmp_path / "html"
    shutil.copytree(html_dir, copy, ignore=shutil.ignore_patterns("_sources"))
    with_math = [p for p in notebook_pages() if (html_dir / f"{p}.html").is_file()
                 and "mathjax/tex-mml-chtml.js" in (html_dir / f"{p}.html").read_text()]
    assert with_math, "no notebook page loads MathJax"
    target = with_math[0]
    page_file = copy / f"{target}.html"
    text = page_file.read_text()
    assert "</article>" in text
    text = text.replace("mathjax/tex-mml-chtml.js", "mathjax/missing.js")  # as if MathJax were not served
    page_file.write_text(text.replace("</article>", TAMPER + "</article>", 1))
    srv = LocalServer(copy)
    try:
        r = visit(browser, srv, f"{target}.html")
        net = "\n".join(network_problems(r))
        assert "cdn.jsdelivr.net" in net and "fonts.googleapis.com" in net, net
        assert "no-such-figure.png" in net and "boom" in net, net
        math = "\n".join(math_problems(r, True))
        assert "MathJax did not load" in math and "not typeset" in math and "raw TeX" in math, math
        assert "mathjax/missing.js" in net, net
        figs = "\n".join(figure_problems(r, n_declared=99))
        assert "did not load" in figs and "without a caption" in figs and "declares 99" in figs, figs
        glue = "\n".join(glue_problems(r, n_roles=999))
        assert "unresolved glue" in glue and "empty" in glue and "999 glue roles" in glue, glue
        links = "\n".join(link_problems(r["links"], srv.origin))
        assert "no-such-page.html -> HTTP 404" in links and "no-such-anchor" in links, links
        # the untampered pages of the copy pass the same link check
        assert not link_problems([srv.url("search.html"), srv.url(f"{target}.html")], srv.origin)
        page = browser.new_page()
        try:
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(srv.origin)
                       else route.abort("blockedbyclient"))
            page.goto(srv.url(f"{target}.html"))
            dark = "\n".join(dark_mode_problems(page))
        finally:
            page.close()
        assert "invisible in dark mode" in dark and "inverted" in dark, dark
    finally:
        srv.close()
