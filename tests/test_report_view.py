"""What a reader sees of a report: documents named by outlet, title and date (linked to their
url), stories named by their headline, in the HTML view and in the terminal summary. Fake embedder."""

import json
import re
import shutil

import pytest

from provenance import build_report, scan
from provenance.html import render_html, result_texts
from provenance.summary import safe_url, shorten, summary_table
from tests.conftest import SEEDS, FakeEmbedder

OUTLETS = ["Agence Wire", "Daily <Courier>", "The Evening Post", "Radio Nord", "Gazette & Herald"]
URLS = ["https://wire.example/iraq", "http://courier.example/a?b=1&c=2", "javascript:alert(document.cookie)",
        "https://post.example/x", "ftp://radio.example/item"]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """The seed articles as JSONL records carrying outlet, title, date and url."""
    folder = tmp_path_factory.mktemp("jsonl")
    records = []
    for k, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        text = path.read_text("utf-8")
        records.append({"id": path.stem, "text": text, "outlet": OUTLETS[k], "title": f"Headline {k}: " +
                        text.splitlines()[0], "date": f"2020-08-{19 + k}", "url": URLS[k]})
    (folder / "feed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    result = scan([str(folder)], embedder=FakeEmbedder())
    report = build_report(result)
    return result, report


@pytest.fixture(scope="module")
def page(scanned):
    result, report = scanned
    return render_html(report, result_texts(result), generated="2020-08-20T09:30:00+00:00")


def test_report_carries_the_records_metadata(scanned):
    _, report = scanned
    assert sorted(d["outlet"] for d in report["documents"]) == sorted(OUTLETS)
    assert all(d["title"].startswith("Headline ") for d in report["documents"])


def test_html_names_documents_by_outlet_and_links_their_urls(page):
    for outlet in OUTLETS:
        assert outlet.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page
    assert '<a class="title" href="https://wire.example/iraq" rel="noopener">' in page
    assert '<a class="title" href="http://courier.example/a?b=1&amp;c=2" rel="noopener">' in page
    assert '<a class="title" href="https://post.example/x" rel="noopener">' in page
    # neither a script nor a non-web address becomes a link; the title is still shown as text
    assert "javascript:" not in page and "ftp://" not in page
    assert "Daily <Courier>" not in page  # escaped


def test_html_header_has_scan_time_inputs_tool_and_model(page, scanned):
    _, report = scanned
    assert '<time datetime="2020-08-20T09:30:00+00:00">2020-08-20 09:30 UTC</time>' in page
    assert f"{len(report['documents'])} documents" in page and "0 skipped" in page
    assert "model fake/bag-of-words" in page and f"provenance {report['tool']['version']}" in page


def test_html_names_stories_by_their_headline(page, scanned):
    _, report = scanned
    for c in report["clusters"]:
        source = next(d for d in report["documents"] if d["id"] == c["source"])
        assert re.search(rf'Story: {re.escape(source["title"][:40])}.*?<span class="storyid">{c["id"]}</span>', page)


def test_json_report_has_no_scan_time(scanned):
    _, report = scanned
    assert "generated" not in json.dumps(report)


def test_summary_fits_80_columns_and_names_stories(scanned):
    _, report = scanned
    text = summary_table(report, width=80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split() == ["#", "document", "lang", "relation", "from", "taken", "used", "div", "story"]
    assert any(line.startswith("1  Agence Wire: Headline") for line in lines)
    assert any("…" in line for line in lines[2:2 + len(report["documents"])])  # long names are cut, not wrapped
    for c in report["clusters"]:
        story = next(line for line in lines if line.endswith(f"({c['id']})"))
        assert story.startswith("Story: Headline ")
    assert "cluster" not in text


def test_summary_is_never_wider_than_asked():
    report = {"documents": [{"id": "x" * 300, "title": "T " * 200, "language": "en", "relation": "source",
                             "derived_from": None, "coverage": None, "cluster": "story-1", "divergences": []}],
              "clusters": [{"id": "story-1", "source": "x" * 300, "members": ["x" * 300],
                            "attribution": {"agency": None}}],
              "skipped": [{"path": "/long/" * 50, "reason": "empty"}]}
    for width in (40, 80, 120):
        assert max(len(line) for line in summary_table(report, width=width).splitlines()) <= width


def test_shorten_and_safe_url():
    assert shorten("US to reduce military presence in Iraq as tensions ease", 30) == "US to reduce military…"
    assert shorten("short", 30) == "short"
    assert safe_url("https://a.example/x") == "https://a.example/x"
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "//a.example", "a.example",
                "http://", "https://a.example/\nx", None, ""):
        assert safe_url(bad) is None


def test_outlet_is_visible_in_the_documents_table_in_chromium(page, tmp_path, browser):
    from selenium.webdriver.common.by import By

    assert shutil.which("chromium") and shutil.which("chromedriver"), "run scripts/setup.sh (Debian chromium)"
    html = tmp_path / "report.html"
    html.write_text(page, "utf-8")
    browser.get(html.as_uri())
    table = browser.find_element(By.XPATH, "//h2[text()='Documents']/following-sibling::table[1]")
    outlets = [e for e in table.find_elements(By.CSS_SELECTOR, ".outlet") if e.text == "Agence Wire"]
    assert outlets and all(e.is_displayed() for e in outlets)
    link = table.find_element(By.CSS_SELECTOR, 'a[href="https://wire.example/iraq"]')
    assert link.is_displayed() and link.get_attribute("rel") == "noopener"
    assert table.find_elements(By.CSS_SELECTOR, 'a[href^="javascript"]') == []


def test_search_box_and_filters_narrow_the_documents(page, scanned, tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _, report = scanned
    html = tmp_path / "report.html"
    html.write_text(page, "utf-8")
    browser.get(html.as_uri())

    def shown_rows():
        rows = browser.find_elements(By.CSS_SELECTOR, "table.docs tr[data-doc]")
        return sorted(r.get_attribute("data-doc") for r in rows if r.is_displayed())

    everyone = sorted(d["id"] for d in report["documents"])
    assert shown_rows() == everyone
    box = browser.find_element(By.ID, "q")
    box.send_keys("gazette")
    gazette = [d["id"] for d in report["documents"] if d["outlet"] == "Gazette & Herald"]
    assert shown_rows() == gazette
    assert browser.find_element(By.ID, "shown").text == f"1 of {len(everyone)} documents"
    # a derived document's side-by-side section follows the filter too
    for d in report["documents"]:
        if d["derived_from"]:
            section = browser.find_element(By.ID, "pair-" + d["id"].replace(" ", "_"))
            assert section.is_displayed() == (d["id"] in gazette)
    box.clear()
    box.send_keys(" ")  # clear() fires no input event in every driver
    Select(browser.find_element(By.ID, "f-rel")).select_by_value("independent")
    assert shown_rows() == sorted(d["id"] for d in report["documents"] if d["relation"] == "independent")
    Select(browser.find_element(By.ID, "f-rel")).select_by_value("")
    assert shown_rows() == everyone
    # an independent article can be opened and read
    ind = next(d for d in report["documents"] if d["relation"] == "independent")
    item = browser.find_element(By.ID, "doc-" + ind["id"].replace(" ", "_"))
    text = item.find_element(By.CSS_SELECTOR, ".doctext")
    assert not text.is_displayed()
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", item)
    item.find_element(By.TAG_NAME, "summary").click()
    assert text.is_displayed() and "Iraq" in text.text


def test_archived_documents_are_marked_and_skipped_files_listed(scanned):
    import copy

    result, report = scanned
    report = copy.deepcopy(report)
    report["documents"][0]["archived"] = True
    report["skipped"] = [{"path": "/in/memo.pdf", "reason": "unsupported file type .pdf: save it as text"}]
    page = render_html(report, result_texts(result), generated="2020-08-20T09:30:00+00:00")
    first = report["documents"][0]["id"]
    assert re.search(rf'<span class="docid">{first}</span> <span class="badge archived"', page)
    assert page.count('class="badge archived"') >= 1
    skipped = page[page.index('<h2 id="skipped">'):]
    assert "<code>/in/memo.pdf</code></td><td>unsupported file type .pdf: save it as text</td>" in skipped
    assert '<a href="#skipped">1 skipped</a>' in page
