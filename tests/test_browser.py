"""The book as a reader gets it: served on 127.0.0.1 and driven by headless Chromium
(Debian's chromium + chromedriver, via selenium), for both renderers: the nbconvert fallback
always, Quarto when `quarto` is on PATH. The book is the compendium's (rendered afresh from
outputs/notebooks after `make book`) or, before a build, the fixture book.

Accessibility: axe-core (npm, `make node_modules`) is injected into every page and run with
the WCAG 2.1 A and AA rules at desktop and phone width; any violation fails.

With CI=true a missing browser, driver or axe-core fails these tests instead of skipping
them (a CI run that silently skipped the reader tests would be a green light for nothing).

Also: the book and everything under outputs/ hold no respondent-level rows and no free-text
answers (those tests need no browser)."""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pandas as pd
import pytest
import yaml

from book_fixture import FREE_TEXT, build_fake_root, real_book_ready  # noqa: F401
from tillit.book import render as book
from tillit.config import repo_root

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars"]
VIEWPORTS = {"desktop": (1366, 900, False), "phone": (390, 844, True)}
RENDERERS = ["nbconvert-fallback", "quarto"]
BAD_TEXT = [re.compile(p) for p in (
    r"Traceback \(most recent call last\)", r"<pandas\.", r"\bdtype: (?:int|float|object)\d*\b",
    r"\[\d+ rows x \d+ columns\]", r"\bobject at 0x[0-9a-f]+", r"^\s*Unnamed: 0", r"\bNaN\b")]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require(ok: bool, reason: str) -> None:
    """Skip with the reason, or fail under CI=true: CI must not pass by skipping."""
    if not ok:
        if in_ci():
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)


# ---------------------------------------------------------------------------- which book


@pytest.fixture(scope="module", params=RENDERERS)
def served_book(request, tmp_path_factory):
    """(book_dir, base_url, shots_dir, is_real, renderer) for each renderer."""
    renderer = request.param
    if renderer == "quarto" and shutil.which("quarto") is None:
        pytest.skip("quarto finnes ikke på PATH: Quarto-boka testes ikke (legg /opt/quarto-build på PATH)")
    root = repo_root()
    is_real = real_book_ready(root)
    if not is_real:
        root = build_fake_root(tmp_path_factory.mktemp("browserbook"))
    book_dir = tmp_path_factory.mktemp(f"book-{renderer}")
    if renderer == "quarto":
        from tillit.book.render.quarto import render_quarto

        render_quarto(root, book_dir)
    else:
        from tillit.book.render.fallback import render_fallback

        render_fallback(root, book_dir)
    shots = root / "outputs" / "screenshots" / renderer
    handler = functools.partial(_QuietHandler, directory=str(book_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield book_dir, f"http://127.0.0.1:{server.server_address[1]}/", shots, is_real, renderer
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    require(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(),
            "Headless Chromium mangler: installer Debian-pakkene chromium og chromium-driver (make browser-deps)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        require(False, "selenium er ikke installert")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    opts.add_argument("--window-size=1366,900")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    drv.set_page_load_timeout(60)
    drv.set_script_timeout(120)
    try:
        yield drv
    finally:
        drv.quit()


def chapter_four(book_dir: Path) -> str:
    pages = sorted(p.name for p in book_dir.glob("04_*.html"))
    if not pages:
        pytest.fail(f"{book_dir}: ingen side for kapittel 4 (04_*.html)")
    return pages[0]


def _status(url: str) -> int:
    try:
        # HEAD: the status is all we need, and the server is not left writing into a closed socket.
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _crawl(driver, base: str) -> dict[str, dict]:
    """Visit every page reachable from index.html; per page its links, images and visible text."""
    todo, seen = [urljoin(base, "index.html")], {}
    while todo:
        url = todo.pop(0)
        if url in seen:
            continue
        driver.get(url)
        info = driver.execute_script("""
            return {
              ready: document.readyState,
              title: document.title,
              text: document.body ? document.body.innerText : "",
              links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
              imgs: Array.from(document.images).map(i => ({src: i.currentSrc || i.src, alt: i.getAttribute('alt'),
                                                           ok: i.complete && i.naturalWidth > 0})),
              assets: Array.from(document.querySelectorAll('link[href], script[src]')).map(e => e.href || e.src),
            };""")
        # The browser's own favicon.ico probe is not the book's content.
        info["console"] = [e for e in driver.get_log("browser")
                           if e.get("level") == "SEVERE" and "favicon.ico" not in e.get("message", "")]
        seen[url] = info
        for href in info["links"]:
            target = href.split("#")[0]
            if target.startswith(base) and target.endswith(".html") and target not in seen:
                todo.append(target)
    return seen


@pytest.fixture(scope="module")
def crawl(served_book, driver):
    book_dir, base = served_book[:2]
    pages = _crawl(driver, base)
    return book_dir, base, pages


# ---------------------------------------------------------------------------- reader tests
@pytest.mark.browser
@pytest.mark.slow
def test_every_page_loads_and_every_chapter_is_reached(crawl):
    book_dir, base, pages = crawl
    on_disk = {p.name for p in book_dir.glob("*.html")}
    reached = {urlparse(u).path.lstrip("/") for u in pages}
    assert on_disk <= reached, f"sider som ingen lenke når: {sorted(on_disk - reached)}"
    for url, info in pages.items():
        assert info["ready"] == "complete", url
        assert info["title"].strip(), url
        assert len(info["text"]) > 200, url
        assert not info["console"], (url, info["console"])


@pytest.mark.browser
@pytest.mark.slow
def test_no_broken_links_or_images(crawl):
    _, base, pages = crawl
    checked: dict[str, int] = {}
    for url, info in pages.items():
        for href in [*info["links"], *info["assets"], *(i["src"] for i in info["imgs"])]:
            target = href.split("#")[0]
            if not target.startswith(base) or target in checked:
                continue
            checked[target] = _status(target)
        broken = {t: s for t, s in checked.items() if s != 200}
        assert not broken, f"{url}: brutte lenker {broken}"
        bad_imgs = [i["src"][:80] for i in info["imgs"] if not i["ok"]]
        assert not bad_imgs, f"{url}: bilder som ikke lastes {bad_imgs}"
    assert any(t.endswith(".csv") for t in checked) or not any("tables/" in t for t in checked)


@pytest.mark.browser
@pytest.mark.slow
def test_every_image_has_alt_text(crawl):
    _, _, pages = crawl
    n_imgs = 0
    for url, info in pages.items():
        for img in info["imgs"]:
            n_imgs += 1
            assert (img["alt"] or "").strip(), f"{url}: bilde uten alternativ tekst: {img['src'][:80]}"
    assert n_imgs > 0, "boka har ingen figurer"


@pytest.mark.browser
@pytest.mark.slow
def test_no_traceback_or_raw_repr_visible(crawl):
    _, _, pages = crawl
    assert_no_bad_text(pages)


def assert_no_bad_text(pages: dict) -> None:
    """No page of a crawl shows a traceback, a raw repr or a NaN (shared with the editions' test)."""
    for url, info in pages.items():
        for pattern in BAD_TEXT:
            m = pattern.search(info["text"])
            assert m is None, f"{url}: siden viser {m.group(0)!r}"


@pytest.mark.browser
@pytest.mark.slow
def test_code_is_hidden_until_unfolded(served_book, driver):
    book_dir, base = served_book[:2]
    driver.get(urljoin(base, chapter_four(book_dir)))
    from selenium.webdriver.common.by import By

    folds = driver.find_elements(By.CSS_SELECTOR, "details.code, details.code-fold")
    assert folds, "ingen sammenfoldet kode på kapittelsiden"
    code = folds[0].find_element(By.CSS_SELECTOR, "pre")
    assert not code.is_displayed()
    folds[0].find_element(By.CSS_SELECTOR, "summary").click()
    assert code.is_displayed()


@pytest.mark.browser
@pytest.mark.slow
def test_search_box_finds_a_chapter(served_book, driver):
    book_dir, base, _, _, renderer = served_book
    if renderer == "quarto":
        pytest.skip("Quarto-boka har Quartos eget søk")
    from selenium.webdriver.common.by import By

    driver.get(urljoin(base, "index.html"))
    word = driver.find_element(By.CSS_SELECTOR, "main .chapter-list li:last-child a").text.split()[-1]
    box = driver.find_element(By.ID, "sok")
    box.send_keys(word)
    hits = driver.find_elements(By.CSS_SELECTOR, "#sok-treff li a")
    assert hits, f"søket etter {word!r} ga ingen treff"
    assert all(h.get_attribute("href").startswith(base) for h in hits)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_screenshots_and_no_sideways_scrolling(served_book, driver, viewport):
    book_dir, base, shots, _, _ = served_book
    width, height, mobile = VIEWPORTS[viewport]
    shots.mkdir(parents=True, exist_ok=True)
    _viewport(driver, viewport)
    try:
        for key, page in {"index": "index.html", "kapittel4": chapter_four(book_dir)}.items():
            driver.get(urljoin(base, page))
            overflow = driver.execute_script("return document.documentElement.scrollWidth")
            assert overflow <= width + 1, f"{page} ({viewport}): siden er {overflow}px bred i et {width}px vindu"
            target = shots / f"{key}-{viewport}.png"
            assert driver.save_screenshot(str(target))
            from PIL import Image  # pillow comes with matplotlib

            with Image.open(target) as im:
                assert im.size == (width, height), (target, im.size)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _viewport(driver, viewport: str) -> None:
    width, height, mobile = VIEWPORTS[viewport]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


@pytest.mark.browser
@pytest.mark.slow
def test_provenance_line_is_quiet_and_upright(served_book, driver):
    """The hashes in the line under a figure read as the line does: upright, in its colour
    (Quarto's default made them italic purple monospace)."""
    book_dir, base = served_book[:2]
    driver.get(urljoin(base, chapter_four(book_dir)))
    styles = driver.execute_script("""
        const lines = Array.from(document.querySelectorAll('main p')).filter(p => p.classList.contains('provenance')
            || (p.firstElementChild && p.firstElementChild.tagName === 'EM'
                && p.firstElementChild.querySelector('a[href*="notebooks/"]')));
        return lines.filter(p => p.querySelector('code')).map(p => { const c = p.querySelector('code'); const s = getComputedStyle(c);
            const e = c.parentElement; return {style: s.fontStyle, color: s.color,
            line: getComputedStyle(p).color, size: parseFloat(getComputedStyle(p).fontSize),
            body: parseFloat(getComputedStyle(document.body).fontSize), em: getComputedStyle(e).fontStyle,
            html: p.outerHTML.slice(0, 300)}; });""")
    assert styles, "ingen kildelinje på kapittel 4"
    for s in styles:
        assert s["style"] == "normal" and s["em"] == "normal", s
        assert s["color"] == s["line"] and s["color"] != "rgb(125, 18, 186)", s
        assert s["size"] < s["body"], s


# ---------------------------------------------------------------------------- accessibility
AXE_RUN = """
const done = arguments[arguments.length - 1];
document.querySelectorAll('details').forEach(d => { d.open = true; });   // folded code too
new Promise(r => setTimeout(r, 100))   // the page's own scripts react to the opened folds first
  .then(() => axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']}))
  .then(r => done(r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}))))
  .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


def axe_violations(driver, base: str, pages: list[str]) -> dict[str, list[dict]]:
    """Page → axe-core's WCAG 2.1 A/AA violations, with every offending element."""
    source = AXE.read_text(encoding="utf-8")
    found = {}
    for page in pages:
        driver.get(urljoin(base, page))
        driver.execute_script(source)
        violations = driver.execute_async_script(AXE_RUN, WCAG_TAGS)
        if violations:
            found[page] = violations
    return found


def _axe_report(found: dict[str, list[dict]]) -> str:
    lines = []
    for page, violations in found.items():
        for v in violations:
            lines.append(f"{page}: {v['id']} ({v['impact']}, {len(v['nodes'])} elementer): {v['help']}")
            for node in v["nodes"][:3]:
                lines.append(f"    {node['target']}: {node['summary'].splitlines()[-1] if node['summary'] else ''}")
    return "\n".join(lines)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_axe_finds_no_wcag_violation(served_book, driver, viewport):
    """Every page, both renderers, desktop and 390 px: no WCAG 2.1 A/AA violation (axe-core)."""
    require(AXE.is_file(), f"axe-core mangler ({AXE.relative_to(REPO)}): kjør make node_modules")
    book_dir, base = served_book[:2]
    found, pages = axe_on_book(driver, book_dir, base, viewport)
    record = book_dir.parent / f"axe-{served_book[4]}-{viewport}.json"
    record.write_text(json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
    assert not found, f"axe fant brudd på WCAG 2.1 A/AA på {len(found)} av {len(pages)} sider:\n" + _axe_report(found)


def axe_on_book(driver, book_dir: Path, base: str, viewport: str) -> tuple[list, list[str]]:
    """axe-core's WCAG 2.1 A/AA violations on every page of a served book (chapters and
    notebook pages) at one viewport: (violations, pages checked)."""
    pages = sorted(p.relative_to(book_dir).as_posix() for p in [*book_dir.glob("*.html"),
                                                                 *book_dir.glob("notebooks/*.html")])
    _viewport(driver, viewport)
    try:
        return axe_violations(driver, base, pages), pages
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.browser
@pytest.mark.slow
def test_axe_can_fail(served_book, driver, tmp_path):
    """The accessibility check itself: a page with a low-contrast paragraph and an image
    without alt text is caught."""
    require(AXE.is_file(), f"axe-core mangler ({AXE.relative_to(REPO)}): kjør make node_modules")
    book_dir, base = served_book[:2]
    bad = book_dir / "zz-axe-probe.html"
    bad.write_text('<!DOCTYPE html><html lang="nb"><head><title>Prøve</title></head><body><main>'
                   '<p style="color:#bbb;background:#fff">Lys tekst</p><img src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="></main></body></html>',
                   encoding="utf-8")
    try:
        found = axe_violations(driver, base, [bad.name])
    finally:
        bad.unlink()
        driver.get_log("browser")  # the probe's console lines are not the book's
    ids = {v["id"] for v in found.get(bad.name, [])}
    assert {"color-contrast", "image-alt"} <= ids, ids


# ---------------------------------------------------------------------------- CI and set-up
def test_missing_browser_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require(False, "ingen nettleser")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: ingen nettleser"):
        require(False, "ingen nettleser")
    require(True, "ingen nettleser")


FAKE_APT = """#!/usr/bin/env bash
# FAKE apt-get: the first two calls find the lock held by another process, then it "installs".
n=$(cat {count} 2>/dev/null || echo 0); echo $((n + 1)) > {count}
if [ "$n" -lt 2 ]; then
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2; exit 100
fi
if [ "$*" != "${{*%install*}}" ]; then
  printf '#!/bin/sh\n' > {bin}/fake-chromium; printf '#!/bin/sh\n' > {bin}/fake-chromedriver
  chmod +x {bin}/fake-chromium {bin}/fake-chromedriver
fi
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="browser-deps installerer bare som root")
def test_browser_deps_waits_for_the_package_managers_lock(tmp_path):
    """A lock held by another apt run is waited for, not taken as 'no browser' (the old
    Makefile gave up, and all browser tests were skipped)."""
    import stat
    import subprocess

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "fake-apt-get"
    apt.write_text(FAKE_APT.format(count=tmp_path / "n", bin=bin_dir), encoding="utf-8")
    apt.chmod(apt.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", APT_GET="fake-apt-get", APT_POLL="0.1",
               BROWSER_BIN="fake-chromium", DRIVER_BIN="fake-chromedriver", CI="true")
    proc = subprocess.run([str(REPO / ".ci" / "browser-deps.sh")], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "venter på pakkebehandlerens lås" in proc.stderr
    assert (bin_dir / "fake-chromium").is_file()
    # A lock that never frees: under CI the set-up fails (exit 1) rather than skipping tests.
    (tmp_path / "n").write_text("-1000")
    (bin_dir / "fake-chromium").unlink()
    env["APT_WAIT"] = "1"
    proc = subprocess.run([str(REPO / ".ci" / "browser-deps.sh")], env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and "Could not get lock" in proc.stderr


# ---------------------------------------------------------------------------- privacy
def _raw_secrets(root: Path) -> tuple[set[str], set[str]]:
    """Respondent ids and free-text answers from data/raw/survey_2023.* (if present)."""
    cb = yaml.safe_load((root / "params" / "codebook.yml").read_text(encoding="utf-8")) \
        if (root / "params" / "codebook.yml").is_file() else {}
    admin = cb.get("survey_admin", {})
    id_col = admin.get("respondent_id", {}).get("raw", "RespondentID")
    text_col = admin.get("free_text", {}).get("raw", "Utdypende svar")
    ids: set[str] = set()
    texts: set[str] = set()
    for path in sorted((root / "data" / "raw").glob("survey_2023.*")):
        if path.suffix == ".csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
        elif path.suffix == ".xlsx":
            df = pd.read_excel(path, dtype=str)
        elif path.suffix == ".sav":
            import pyreadstat

            df, _ = pyreadstat.read_sav(str(path), apply_value_formats=True)
        else:
            continue
        if id_col in df:
            ids |= {str(v).strip() for v in df[id_col].dropna() if len(str(v).strip()) >= 4}
        if text_col in df:
            # Short answers ("Nei", "Vet ikke") are not identifying; long ones are.
            texts |= {str(v).strip() for v in df[text_col].dropna() if len(str(v).strip()) >= 25}
    return ids, texts


def _leaks(outputs: Path, ids: set[str], texts: set[str]) -> list[str]:
    found = []
    id_re = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(ids, key=len, reverse=True))) + r")(?![\w-])") if ids else None
    for path in sorted(p for p in outputs.rglob("*") if p.is_file()):
        if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".pdf", ".parquet", ".woff", ".woff2"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(outputs)
        for answer in texts:
            if answer in text or answer.replace('"', '\\"') in text:
                found.append(f"{rel}: fritekstsvar {answer[:40]!r}…")
        if id_re is not None and (m := id_re.search(text)):
            found.append(f"{rel}: respondent-id {m.group(1)!r}")
        if path.suffix.lower() == ".csv":
            header = text.split("\n", 1)[0].lower()
            for col in ("respondentid", "respondent_id", "utdypende svar", "free_text", "innsendt", "submitted_at"):
                if col in [h.strip().strip('"') for h in header.split(",")]:
                    found.append(f"{rel}: kolonnen '{col}' hører til enkeltsvar")
    return found


def test_no_respondent_rows_or_free_text_under_outputs():
    root = repo_root()
    outputs = root / "outputs"
    if not outputs.is_dir() or not any(outputs.rglob("*.*")):
        pytest.skip("outputs/ er tom – kjør make book først")
    ids, texts = _raw_secrets(root)
    assert not _leaks(outputs, ids, texts)


def test_fixture_book_holds_no_respondent_rows_or_free_text(tmp_path):
    root = build_fake_root(tmp_path)
    book.render(root, renderer="fallback")
    ids, texts = _raw_secrets(root)
    assert FREE_TEXT in texts and "R000123" in ids
    assert not _leaks(root / "outputs", ids, texts)


def test_leak_scanner_catches_planted_leaks(tmp_path):
    """The scanner itself can fail: plant a free-text answer, an id and a respondent-level CSV."""
    root = build_fake_root(tmp_path)
    book.render(root, renderer="fallback")
    ids, texts = _raw_secrets(root)
    page = root / "outputs" / "book" / "02_innledning.html"
    page.write_text(page.read_text(encoding="utf-8") + f"<p>{FREE_TEXT}</p><p>R000123</p>", encoding="utf-8")
    (root / "outputs" / "tables" / "lekk.csv").write_text("RespondentID,rolle\nX1,Leder\n", encoding="utf-8")
    found = _leaks(root / "outputs", ids, texts)
    assert any("fritekstsvar" in f and "02_innledning" in f for f in found)
    assert any("respondent-id 'R000123'" in f for f in found)
    assert any("lekk.csv" in f and "respondentid" in f for f in found)
