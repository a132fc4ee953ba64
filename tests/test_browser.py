"""The book as a reader gets it: served on 127.0.0.1 and driven by headless Chromium
(Debian's chromium + chromedriver, via selenium). Uses the built book (outputs/book after
`make book`) when it exists, otherwise a fixture book rendered from fake notebooks.

Also: the book and everything under outputs/ hold no respondent-level rows and no free-text
answers (those tests need no browser)."""
from __future__ import annotations

import functools
import http.server
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

from tillit.book import render as book
from tillit.config import repo_root

from test_book import FREE_TEXT, build_fake_root

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars"]
VIEWPORTS = {"desktop": (1366, 900, False), "phone": (390, 844, True)}
SHOT_PAGES = {"index": "index.html", "04_hovedfunn": "04_hovedfunn.html"}
BAD_TEXT = [re.compile(p) for p in (
    r"Traceback \(most recent call last\)", r"<pandas\.", r"\bdtype: (?:int|float|object)\d*\b",
    r"\[\d+ rows x \d+ columns\]", r"\bobject at 0x[0-9a-f]+", r"^\s*Unnamed: 0", r"\bNaN\b")]


# ---------------------------------------------------------------------------- which book
@pytest.fixture(scope="module")
def served_book(tmp_path_factory):
    """(book_dir, base_url, shots_dir, is_real): the built book if present, else a fixture book."""
    root = repo_root()
    real = root / "outputs" / "book" / "index.html"
    if real.is_file():
        book_dir, shots, is_real = real.parent, root / "outputs" / "screenshots", True
    else:
        fake = build_fake_root(tmp_path_factory.mktemp("browserbook"))
        result = book.render(fake, renderer="fallback")
        book_dir, shots, is_real = result.index_path.parent, fake / "outputs" / "screenshots", False
    handler = functools.partial(_QuietHandler, directory=str(book_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield book_dir, f"http://127.0.0.1:{server.server_address[1]}/", shots, is_real
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.skip("Headless Chromium mangler: installer Debian-pakkene chromium og chromium-driver (make browser-deps)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium er ikke installert")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    opts.add_argument("--window-size=1366,900")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()


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
    book_dir, base, _, _ = served_book
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
    for url, info in pages.items():
        for pattern in BAD_TEXT:
            m = pattern.search(info["text"])
            assert m is None, f"{url}: siden viser {m.group(0)!r}"


@pytest.mark.browser
@pytest.mark.slow
def test_code_is_hidden_until_unfolded(served_book, driver):
    _, base, _, _ = served_book
    driver.get(urljoin(base, "04_hovedfunn.html"))
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
    book_dir, base, _, _ = served_book
    if (book_dir / ".renderer").is_file() and (book_dir / ".renderer").read_text().strip() == "quarto":
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
    book_dir, base, shots, _ = served_book
    width, height, mobile = VIEWPORTS[viewport]
    shots.mkdir(parents=True, exist_ok=True)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    try:
        for key, page in SHOT_PAGES.items():
            if not (book_dir / page).is_file():
                pytest.fail(f"{book_dir / page} finnes ikke (forventet kapittelet om mål 4)")
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
