"""The pages in a real browser: sign in, search, read a document, explore an entity, act on it,
and stay safe with hostile names and expired sessions."""

from __future__ import annotations

import time
import uuid

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from docflow.core.accounts import Role
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file
from tests.support.accounts import Account, new_account
from tests.support.web import click_through, sign_in

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow, pytest.mark.browser]

TIMEOUT_S = 240


@pytest.fixture(scope="module")
def project(workers, sample_files, tmp_path_factory) -> dict:
    """A born-digital PDF and a text file processed to the end, plus a document with a hostile name."""
    good, bad = sample_files
    name = f"web-{uuid.uuid4().hex[:10]}"
    hostile = tmp_path_factory.mktemp("hostile") / "hostile.txt"
    hostile.write_text(
        "<b>bold</b> <img src=x onerror=alert(1)> Kenji Tanaka met Maria Gonzalez in Nairobi.\n\n"
        "The <script>alert(2)</script> tag must show as text."
    )
    ids = {
        "pdf": ingest_file(path=good["born_digital.pdf"], project_id=name).document_id,
        "notes": ingest_file(path=good["field_notes.txt"], project_id=name).document_id,
        "docx": ingest_file(path=good["board_minutes.docx"], project_id=name).document_id,
        # Markup in the name as an upload would give it (without a "/": a name with one keeps only
        # what follows its last "/", as any path-like name does).
        "hostile": ingest_file(
            path=hostile, project_id=name, original_file_name="<img src=x onerror=alert('x')>.txt"
        ).document_id,
    }
    assert set(wait_for_documents(list(ids.values()), timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    ids["broken"] = ingest_file(path=bad["corrupt.pdf"], project_id=name).document_id
    assert wait_for_documents([ids["broken"]], timeout_s=TIMEOUT_S) == {ids["broken"]: "error_ocr"}
    return {"name": name, "ids": ids}


@pytest.fixture(scope="module")
def operator(project) -> Account:
    """Someone who may read and act in the project, and nowhere else."""
    return new_account("web-operator", grants={project["name"]: Role.OPERATOR})


def no_alert(browser) -> bool:
    try:
        _ = browser.switch_to.alert  # raises when no alert is open
    except NoAlertPresentException:
        return True
    return False


def test_nothing_is_readable_without_signing_in_and_a_wrong_password_stays_out(site, browser, project, operator):
    browser.delete_all_cookies()
    # WHEN a page is opened without a session THEN the login page answers
    browser.get(f"{site.url}/ui/documents/{project['ids']['pdf']}")
    assert "/ui/login" in browser.current_url and browser.find_element(By.ID, "password")
    assert "born_digital" not in browser.page_source
    # WHEN a wrong password is given THEN it says so and nothing else is shown
    sign_in(browser, site, operator, password="not-" + operator.password)
    assert browser.find_element(By.ID, "login-error").text == "That name and password do not match an enabled user."
    browser.get(f"{site.url}/ui/search?q=Nairobi")
    assert "/ui/login" in browser.current_url


def test_search_document_and_entity_in_the_browser(site, browser, project, operator):
    sign_in(browser, site, operator, next_path="/ui/search")
    # WHEN a name from a processed sample is searched
    box = browser.find_element(By.ID, "q")
    box.send_keys("Kenji Tanaka")
    browser.find_element(By.NAME, "project").send_keys(project["name"])
    click_through(browser, browser.find_element(By.ID, "search-button"))
    # THEN ranked hits link to the documents, with the words marked in the snippet
    titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".hit-title")]
    assert "field_notes.txt" in titles
    assert any(m.text in ("Kenji", "Tanaka") for m in browser.find_elements(By.CSS_SELECTOR, ".snippet mark"))
    # WHEN the born-digital PDF's page 2 is opened
    browser.get(f"{site.url}/ui/documents/{project['ids']['pdf']}?page_number=2")
    # THEN its page picture and its text are side by side, and the entity of that page is marked
    assert browser.find_element(By.ID, "document-name").text == "born_digital.pdf"
    image = browser.find_element(By.ID, "page-image")
    deadline = time.monotonic() + 30  # rendered on first view, then cached
    while not browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 100", image):
        assert time.monotonic() < deadline, "the page picture never loaded"
        time.sleep(0.3)
    marked = {e.text.split("\n")[0] for e in browser.find_elements(By.CSS_SELECTOR, "#page-text a.entity")}
    assert any("Daniel Okafor" in m for m in marked)  # page 2 names him; page 1 does not
    assert "graph_complete" in browser.find_element(By.ID, "status").text
    # WHEN the entity is opened THEN its neighbours are drawn in the graph and listed
    person = next(e for e in browser.find_elements(By.CSS_SELECTOR, "#page-text a.entity") if "Daniel Okafor" in e.text)
    click_through(browser, person)
    assert browser.find_element(By.ID, "entity-name").text.startswith("Daniel Okafor")
    deadline = time.monotonic() + 10
    while not browser.execute_script("return window.docflowGraph && window.docflowGraph.nodes().length"):
        assert time.monotonic() < deadline, "the graph was never drawn"
        time.sleep(0.2)
    nodes = browser.execute_script("return window.docflowGraph.nodes().map(n => n.data('name'))")
    assert "Daniel Okafor" in nodes and len(nodes) >= 3
    # AND what the documents say about him is listed with the sentence that says it, linked to its page
    relationship = browser.find_element(By.CSS_SELECTOR, "#relationship-list .relationship")
    assert "Daniel Okafor" in relationship.find_element(By.CSS_SELECTOR, ".evidence").text
    link = relationship.find_element(By.CSS_SELECTOR, "a.evidence-link").get_attribute("href")
    assert "/ui/documents/" in link and "page_number=" in link
    # AND no two labels of the picture overlap (their drawn boxes, as Cytoscape measures them)
    overlaps = browser.execute_script(
        "var b = window.docflowGraph.nodes().map(n => n.boundingBox({includeLabels: true}));"
        "var hits = 0; for (var i = 0; i < b.length; i++) for (var j = i + 1; j < b.length; j++)"
        " if (b[i].x1 < b[j].x2 && b[j].x1 < b[i].x2 && b[i].y1 < b[j].y2 && b[j].y1 < b[i].y2) hits++;"
        "return hits;"
    )
    assert overlaps == 0
    # WHEN a neighbour is clicked in the picture THEN its own page opens
    neighbour = browser.execute_script(
        "var n = window.docflowGraph.nodes().filter(x => !x.data('center'))[0]; n.emit('tap'); return n.data('name')"
    )
    deadline = time.monotonic() + 10
    while browser.find_element(By.ID, "entity-name").text.split("\n")[0].startswith("Daniel Okafor"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert browser.find_element(By.ID, "entity-name").text.startswith(neighbour)


def test_hostile_names_and_text_render_as_text(site, browser, project, operator):
    sign_in(browser, site, operator, next_path=f"/ui/documents/{project['ids']['hostile']}")
    # THEN the name and the text are shown literally, and nothing they contain runs
    assert browser.find_element(By.ID, "document-name").text == "<img src=x onerror=alert('x')>.txt"
    text = browser.find_element(By.ID, "page-text").text
    assert "<img src=x onerror=alert(1)>" in text and "<script>alert(2)</script>" in text
    assert no_alert(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "#page-text img, #page-text b, #page-text script")
    browser.get(f"{site.url}/ui/search?q=onerror&project={project['name']}")
    assert (
        no_alert(browser)
        and "<img src=x onerror=alert('x')>.txt" in browser.find_element(By.CSS_SELECTOR, ".hit-title").text
    )


def test_reprocess_and_delete_with_their_confirmations(site, browser, project, operator):
    document_id = project["ids"]["notes"]
    sign_in(browser, site, operator, next_path=f"/ui/documents/{document_id}")
    # WHEN reprocessing from the entity stage is asked and confirmed
    browser.find_element(By.CSS_SELECTOR, "#reprocess-stage option[value='entity']").click()
    click_through(browser, browser.find_element(By.ID, "reprocess-button"))
    click_through(browser, browser.find_element(By.ID, "confirm-reprocess"))
    # THEN the page says it was queued, and the document completes again
    assert "queued again from entity" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    # WHEN a document that failed OCR is to be reprocessed from a stage whose input it never got
    browser.get(f"{site.url}/ui/documents/{project['ids']['broken']}/confirm?action=reprocess&stage=entity")
    # THEN the confirmation page says why not, and offers no button
    assert "no text result to start from" in browser.find_element(By.ID, "refusal").text
    assert not browser.find_elements(By.ID, "confirm-reprocess")
    # WHEN a deletion is not confirmed with the word THEN it is refused, with the reason
    browser.get(f"{site.url}/ui/documents/{document_id}")
    click_through(browser, browser.find_element(By.ID, "delete-button"))
    browser.find_element(By.ID, "confirm-text").send_keys("nope")
    click_through(browser, browser.find_element(By.ID, "confirm-delete"))
    assert 'type "delete" to confirm' in browser.find_element(By.CSS_SELECTOR, ".notice").text
    # WHEN the deletion is confirmed THEN the document is gone
    click_through(browser, browser.find_element(By.ID, "delete-button"))
    browser.find_element(By.ID, "confirm-text").send_keys("delete")
    click_through(browser, browser.find_element(By.ID, "confirm-delete"))
    assert "deleted field_notes.txt" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    browser.get(f"{site.url}/ui/documents/{document_id}")
    assert "There is no document" in browser.page_source


def test_the_overview_shows_the_monitor_with_charts(site, browser, project, operator):
    sign_in(browser, site, operator)
    assert "/ui/overview" in browser.current_url
    rows = {r.find_element(By.TAG_NAME, "th").text for r in browser.find_elements(By.CSS_SELECTOR, "#status-table tr")}
    assert "graph_complete" in rows
    deadline = time.monotonic() + 10
    while not browser.execute_script("return window.docflowCharts && Object.keys(window.docflowCharts).length === 3"):
        assert time.monotonic() < deadline, "the charts were never drawn"
        time.sleep(0.2)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a")]
    assert any(link and link.endswith("/artifacts/key/reconcile-report") for link in links)


def test_an_office_document_shows_its_page_picture_once_it_is_laid_out(site, browser, project, operator):
    # GIVEN a Word document nobody has viewed yet
    sign_in(browser, site, operator, next_path=f"/ui/documents/{project['ids']['docx']}")
    image = browser.find_element(By.ID, "page-image")
    # WHEN its page is shown THEN the picture arrives once LibreOffice has laid the document out (the
    # first answers are 503 with Retry-After, and the page asks again)
    deadline = time.monotonic() + 120
    while not browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 100", image):
        assert time.monotonic() < deadline, "the office page picture never loaded"
        time.sleep(0.5)
    assert "no page picture" not in browser.find_element(By.CSS_SELECTOR, "figure.picture").text


def test_an_operator_merges_and_splits_on_the_curation_page_and_a_viewer_only_reads_it(site, browser, tmp_path):
    from docflow.ops.audit import events

    # GIVEN a project whose two documents spell one person two ways, its viewer and its operator
    name = f"web-curation-{uuid.uuid4().hex[:8]}"
    ids = []
    for file_name, text in (
        ("lease.txt", "Maria Gonzalez signed the lease with Harbour Freight Ltd. in Rotterdam on Monday."),
        ("invoice.txt", "Maria Gonzales approved the invoice from Harbour Freight Ltd. for the storage in Rotterdam."),
    ):
        path = tmp_path / file_name
        path.write_text(text)
        ids.append(ingest_file(path=path, project_id=name).document_id)
    assert set(wait_for_documents(ids, timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    viewer = new_account("web-viewer", grants={name: Role.VIEWER})
    curator = new_account("web-curator", grants={name: Role.OPERATOR})
    page = f"/ui/entities/curation?project_id={name}"
    # WHEN the viewer opens the project's curation page THEN the pair is listed, with no button to merge
    sign_in(browser, site, viewer, next_path=page)
    assert "Maria Gonzales" in browser.find_element(By.ID, "duplicate-list").text
    assert browser.find_elements(By.CSS_SELECTOR, "button.merge") == []
    # WHEN the operator merges the pair with the row's button (a form with its CSRF token)
    sign_in(browser, site, curator, next_path=page)
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#duplicate-list tr") if "Maria Gonzales" in r.text)
    click_through(browser, row.find_element(By.CSS_SELECTOR, "button.merge"))
    # THEN it says what it merged, and the merge is listed by the operator, with a button to split it
    assert "merged Maria Gonza" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert f"user:{curator.name}" in browser.find_element(By.ID, "merge-list").text
    # WHEN it is split again THEN the page says so
    click_through(browser, browser.find_element(By.CSS_SELECTOR, "#merge-list button.split"))
    assert "is its own entity again" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    # AND the audit log has both, as the operator, from the browser's address
    logged = [
        (e.action, e.outcome, e.actor) for e in events(project_id=name, limit=50) if e.action in ("merge", "split")
    ]
    assert logged == [("split", "ok", f"user:{curator.name}"), ("merge", "ok", f"user:{curator.name}")]
