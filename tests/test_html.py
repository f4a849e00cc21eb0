"""The HTML side-by-side view: self-contained, linked both ways, furniture greyed; and rendered
for real in headless Chromium where it is installed (scripts/render_html.sh)."""

import re
import shutil
import subprocess

import pytest

from provenance.html import render_html, result_texts

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def page(seed_result, seed_report):
    return render_html(seed_report, result_texts(seed_result))


def test_page_is_self_contained(page):
    # nothing is fetched when the page is viewed (links to articles' own urls are only links)
    assert not re.search(r'src="(https?:)?//', page)
    assert "<link" not in page and "@import" not in page and "url(" not in page


def test_every_alignment_is_linked_on_both_sides(page, seed_report):
    for d in seed_report["documents"]:
        slug = re.sub(r"\W", "_", d["id"])
        for k in range(1, len(d["alignments"]) + 1):
            assert f'id="{slug}-s{k}"' in page and f'id="{slug}-t{k}"' in page
            assert f'href="#{slug}-t{k}"' in page


def test_furniture_is_shown_greyed_and_changes_highlighted(page):
    assert re.search(r'<span class="excluded">Kelly Clarkson Ready To Date', page)
    assert re.search(r'class="[^"]*\bins\b[^"]*">consolidated to just three', page)
    assert "Reconstructed wire" in page and "hashed out ahead of time" in page


def test_page_renders_in_headless_chromium(page, tmp_path):
    from PIL import Image

    assert shutil.which("chromium"), "Debian's chromium is missing: run scripts/setup.sh (it installs it)"
    html = tmp_path / "report.html"
    html.write_text(page, "utf-8")
    png = tmp_path / "shot.png"
    subprocess.run(["bash", "scripts/render_html.sh", str(html), str(png), "1400x1400"], check=True,
                   capture_output=True, timeout=120)
    img = Image.open(png).convert("RGB")
    assert img.size == (1400, 1400)
    colours = img.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 200  # text, tables and highlights, not a blank page
    # the side-by-side panes' highlight colours are on screen
    present = {c for _, c in colours}
    assert (231, 240, 255) in present or (255, 246, 214) in present or (253, 232, 232) in present


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven through Debian's chromedriver (never a downloaded one)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert shutil.which("chromedriver"), "Debian's chromium-driver is missing: run scripts/setup.sh"
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,900"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    yield driver
    driver.quit()


def _in_view(driver, element) -> bool:
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth;",
        element)


def test_clicking_a_passage_brings_its_counterpart_into_view(page, seed_report, tmp_path, browser):
    from selenium.webdriver.common.by import By

    html = tmp_path / "report.html"
    html.write_text(page, "utf-8")
    browser.get(html.as_uri())
    derived = next(d for d in seed_report["documents"] if len(d["alignments"]) >= 8)
    slug = re.sub(r"\W", "_", derived["id"])
    k = len(derived["alignments"])  # the last passage: far down both panes
    target = browser.find_element(By.ID, f"{slug}-t{k}")
    assert not _in_view(browser, target)
    link = browser.find_element(By.CSS_SELECTOR, f'a[href="#{slug}-t{k}"]')
    browser.execute_script("arguments[0].scrollIntoView()", link)
    link.click()
    assert _in_view(browser, target)
