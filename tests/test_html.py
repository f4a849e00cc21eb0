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
    subprocess.run(["bash", "scripts/render_html.sh", str(html), str(png), "1400x9000"], check=True,
                   capture_output=True, timeout=120)
    img = Image.open(png).convert("RGB")
    assert img.size == (1400, 9000)
    colours = img.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 200  # text, tables and highlights, not a blank page
    # the side-by-side rows' colours are on screen: edited passages, omitted and added passages
    present = {c for _, c in colours}
    assert {(255, 243, 196), (253, 224, 224), (217, 243, 223)} <= present


def _in_view(driver, element) -> bool:
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth;",
        element)


def _open(browser, page, tmp_path):
    html = tmp_path / "report.html"
    html.write_text(page, "utf-8")
    browser.get(html.as_uri())


def test_clicking_a_passage_number_shows_both_versions_side_by_side(page, seed_report, tmp_path, browser):
    from selenium.webdriver.common.by import By

    _open(browser, page, tmp_path)
    derived = next(d for d in seed_report["documents"] if len(d["alignments"]) >= 8)
    slug = re.sub(r"\W", "_", derived["id"])
    k = len(derived["alignments"])  # the last passage: far down the page
    source, target = browser.find_element(By.ID, f"{slug}-s{k}"), browser.find_element(By.ID, f"{slug}-t{k}")
    assert not _in_view(browser, source) and not _in_view(browser, target)
    link = browser.find_element(By.CSS_SELECTOR, f'a[href="#{slug}-t{k}"]')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    assert _in_view(browser, source) and _in_view(browser, target)


def test_clicking_a_divergence_brings_both_versions_into_view(page, seed_report, tmp_path, browser):
    from selenium.webdriver.common.by import By

    _open(browser, page, tmp_path)
    copy = next(d for d in seed_report["documents"] if d["relation"] == "copy")
    slug = re.sub(r"\W", "_", copy["id"])
    j = next(j for j, v in enumerate(copy["divergences"], 1) if v["type"] == "quote" and v["subtype"] == "altered")
    assert copy["divergences"][j - 1]["severity"] == "substantive"
    row = browser.find_element(By.CSS_SELECTOR, f'#pair-{copy["id"]} tr.div[data-j="{j}"]')
    assert row.find_element(By.CSS_SELECTOR, ".del").text == "[US]"  # the word diff: "[US]" deleted
    assert browser.find_elements(By.ID, f"{slug}-d{j}s") and browser.find_elements(By.ID, f"{slug}-d{j}t")
    pieces = {side: browser.execute_script("return Array.from(document.getElementsByClassName(arguments[0]))",
                                           f"{slug}-d{j}{side}") for side in "st"}
    shown = pieces["s"] + pieces["t"]
    assert pieces["s"] and pieces["t"] and not any(_in_view(browser, e) for e in shown)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    row.find_element(By.CSS_SELECTOR, "a.show").click()
    assert all(_in_view(browser, e) for e in shown)
    # and none of it under the sticky toolbar or the side-by-side column header, on a short screen too
    size = browser.get_window_size()
    browser.set_window_size(size["width"], 320)
    try:
        browser.execute_script("window.scrollTo(0, 0)")
        browser.execute_script("arguments[0].click()", row.find_element(By.CSS_SELECTOR, "a.show"))
        assert all(_in_view(browser, e) for e in shown)
        covered = browser.execute_script(
            "const hs = Array.from(document.querySelectorAll('.toolbar, .sbs-head'))"
            "  .map(h => h.getBoundingClientRect());"
            "return arguments[0].some(e => { const r = e.getBoundingClientRect(); return hs.some(h => h.height"
            " && r.top < h.bottom && r.bottom > h.top && r.left < h.right && r.right > h.left); });",
            shown)
        assert not covered
    finally:
        browser.set_window_size(size["width"], size["height"])
    assert all("flash" in e.get_attribute("class") for e in shown)
    source, target = ("".join(e.text for e in pieces[side]) for side in "st")
    assert source.startswith('"There was a lack of confidence in the [US] relationship')
    assert target.startswith('"There was a lack of confidence in the relationship')


def test_printed_pdf_contains_every_aligned_passage(page, seed_report, seed_result, tmp_path, browser):
    import base64
    import io
    import unicodedata

    from pypdf import PdfReader

    from provenance.html import result_texts

    _open(browser, page, tmp_path)
    pdf = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})
    reader = PdfReader(io.BytesIO(base64.b64decode(pdf["data"])))
    assert len(reader.pages) > 5

    def norm(text):
        return "".join(unicodedata.normalize("NFKC", text).split())

    printed = norm("".join(p.extract_text() for p in reader.pages))
    texts = result_texts(seed_result)
    missing = []
    assert sum(len(d["alignments"]) for d in seed_report["documents"]) >= 20
    for d in seed_report["documents"]:
        for a in d["alignments"]:
            for doc, (x, y) in ((d["derived_from"], a["source_span"]), (d["id"], a["target_span"])):
                if norm(texts[doc][x:y]) not in printed:
                    missing.append((d["id"], doc, texts[doc][x:y][:60]))
    assert missing == []
