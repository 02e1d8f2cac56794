"""The Welsh interface: every interface string is marked and has Welsh, the compiled
catalogue matches its source, and the language follows the user, the visitor's choice
and the browser, in that order. Document content is never translated."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import refresh
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, User
from tests import interface_text
from tests.conftest import login, make_user

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "inquiry_docs" / "translations"
PO = LOCALES / "cy" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
WELSH = {"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}


def _catalogue():
    with PO.open("rb") as f:
        return read_po(f, locale="cy")


def _extracted(tmp_path: Path) -> set[str]:
    """The interface strings the source marks today (what `make translations` gathers)."""
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).with_name("pybabel")), "-q", "extract",
                    "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "-k", "lazy_ngettext:1,2", "--no-location", "-o", str(pot), "."],
                   cwd=ROOT, check=True)
    with pot.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def test_every_marked_string_has_welsh(tmp_path: Path):
    catalogue = _catalogue()
    welsh = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue if m.id}
    missing = sorted(key for key in _extracted(tmp_path)
                     if key not in welsh or not _complete(welsh[key].string)
                     or "fuzzy" in welsh[key].flags)
    assert not missing, (f"{len(missing)} interface strings have no Welsh; run "
                         f"`make translations` and translate them: {missing[:20]}")


def _complete(string: str | tuple[str, ...]) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def test_welsh_keeps_every_placeholder():
    wrong = []
    for message in _catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if string and set(PLACEHOLDER.findall(string)) != wanted:
                wrong.append(ids[0])
    assert not wrong, f"placeholders differ from the English: {wrong[:20]}"


def test_compiled_catalogue_matches_its_source():
    compiled = io.BytesIO()
    write_mo(compiled, _catalogue())
    assert (PO.with_suffix(".mo")).read_bytes() == compiled.getvalue(), \
        "messages.mo is older than messages.po: run `make translations`"


# The interface is being marked area by area: TODO lists what is still to mark (file, text).
# It may only shrink: new unmarked text fails, and so does an entry that has been marked
# (take it off the list), so the list is always the true remainder.
TODO = Path(__file__).with_name("interface_text_todo.txt")


def _unmarked() -> set[str]:
    found = {**interface_text.templates(), **interface_text.python()}
    return {f"{file}\t{' '.join(text.split())}" for file, items in found.items()
            for _, text in items}


def test_no_new_unmarked_text():
    todo = set(TODO.read_text(encoding="utf-8").splitlines())
    new = sorted(_unmarked() - todo)
    assert not new, "text not marked for translation: " + "; ".join(new[:20])


def test_the_list_of_text_to_mark_is_current():
    done = sorted(set(TODO.read_text(encoding="utf-8").splitlines()) - _unmarked())
    assert not done, ("marked now, take these off tests/interface_text_todo.txt: "
                      + "; ".join(done[:20]))


@pytest.mark.parametrize("text, unmarked", [
    ("<p>Upload files</p>", True),
    ('<img alt="Page 3 of the document">', True),
    ("<p>{{ _('Upload files') }}</p>", False),
    ("{% trans %}Upload files{% endtrans %}", False),
    ('<a class="govuk-link" href="{{ url }}">{{ name }}</a>', False),
    ("<p>PDF, DOCX</p>", False),
    ("<p>Inquiry Docs</p>", False),
])
def test_the_template_check_tells_marked_from_unmarked(tmp_path: Path, text, unmarked):
    page = tmp_path / "page.html"
    page.write_text(text)
    assert bool(interface_text.template_text(page)) is unmarked


# ---- the language of the pages ----------------------------------------------------------

def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_browser_language_is_honoured(client):
    assert _lang(client.get("/auth/login")) == "en-GB"
    page = client.get("/auth/login", headers=WELSH)
    assert _lang(page) == "cy"
    assert "Neidio i\u2019r prif gynnwys" in page.get_data(as_text=True)


def test_a_visitor_choice_outlasts_the_browser_language(client):
    # The switch returns to the page it was pressed on (its Referer on this site).
    response = client.post("/language", data={"language": "cy"},
                           headers={"Referer": "http://localhost/accessibility?x=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/accessibility?x=1"
    assert _lang(client.get("/accessibility")) == "cy"
    client.post("/language", data={"language": "en"})
    assert _lang(client.get("/accessibility", headers=WELSH)) == "en-GB"


def test_the_choice_is_kept_on_the_account_and_audited(app, client, inquiry):
    make_user("reader@example.org", "reader", inquiry)
    login(client, "reader@example.org")
    client.post("/language", data={"language": "cy"},
                headers={"Referer": "http://localhost/documents/"})
    user = db.session.execute(select(User).filter_by(email="reader@example.org")).scalar_one()
    assert user.language == "cy"
    event = db.session.execute(
        select(AuditEvent).filter_by(action="language_changed")).scalar_one()
    assert event.user_id == user.id
    # Another browser, with no cookie and an English Accept-Language, gets Welsh too.
    other = app.test_client()
    login(other, "reader@example.org")
    assert _lang(other.get("/documents/", headers={"Accept-Language": "en"})) == "cy"


def test_an_unknown_language_or_outside_address_changes_nothing(client):
    response = client.post("/language", data={"language": "fr", "next": "https://evil.example"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "language" not in response.headers.get("Set-Cookie", "")
    # A Referer from another site is not followed either.
    response = client.post("/language", data={"language": "cy"},
                           headers={"Referer": "https://evil.example/phish"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_dates_and_numbers_follow_the_language(app):
    render = app.jinja_env.from_string(
        "{{ when | date }} · {{ when | datetime }} · {{ n | number }}")
    when = datetime(2026, 12, 7, 9, 5)
    with app.test_request_context(headers={"Accept-Language": "cy"}):
        refresh()  # the app context (and Babel's choice on g) is the test's own
        assert render.render(when=when, n=12345) == (
            "7 Rhagfyr 2026 · 7 Rhagfyr 2026 09:05 · 12,345")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        assert render.render(when=when, n=12345) == (
            "7 December 2026 · 7 December 2026 09:05 · 12,345")
