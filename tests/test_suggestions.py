"""Suggestions, measured: a labelled set of our own generated documents, each labelled page
written about one recommendation among pages of ordinary evidence; the labelled page must
be among the top 5 suggestions for its recommendation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.models import Document, Recommendation, User
from inquiry_docs.recommendations import ensure_default_set, suggestions
from tests import samples
from tests.conftest import upload


@pytest.fixture
def app(search_app):
    """Every test here runs on each search backend (see conftest.search_app)."""
    return search_app


# Ordinary evidence that mentions abuse, children and institutions, as most pages do.
FILLER = [
    "The boy told his form tutor about the abuse in 1994. The tutor wrote a note and spoke "
    "to the deputy head, who said the family would be contacted.",
    "Minutes of the governors' meeting of March 1998 record a discussion of the school "
    "budget, the new sports hall and staff sickness absence.",
    "The social worker visited the family home twice. The children appeared well cared for "
    "and the case was closed after six weeks.",
    "Police interviewed the teacher under caution. He denied the allegations and no further "
    "action was taken at that time because of a lack of evidence.",
    "The diocese kept a file on the priest which recorded complaints from parents. The "
    "bishop moved him to another parish in 1987.",
    "The child was placed with foster carers in Oldham. Contact with her mother took place "
    "at the family centre every fortnight.",
]

# (recommendation number, text of the labelled page), in our own words.
LABELLED = [
    ("3", "Several witnesses said no single minister in the cabinet speaks for children; a "
          "Minister for Children at cabinet level would have authority across departments."),
    ("5", "Staff at the secure training centre used pain compliance techniques to restrain "
          "children in custody, twisting wrists and thumbs until the child complied."),
    ("7", "None of the care staff at the children's home were registered with a professional "
          "body, so a worker dismissed from one home was employed by the next."),
    ("9", "The sports coach was never subject to a barred list check because the club said "
          "his role was not regulated activity."),
    ("12", "The platform did not screen uploads against hashes of known child sexual abuse "
           "images before they were published, so the images stayed online for weeks."),
    ("13", "Had mandatory reporting been in force, the teachers who knew would have had a "
           "legal duty to report the abuse to the police or children's social care."),
    ("15", "His civil claim against the council was struck out because the three-year "
           "limitation period had expired long before he was able to speak about the abuse."),
    ("17", "She asked the council for access to her care records; the records were heavily "
           "redacted and some of her files had been destroyed."),
    ("18", "Her application to the Criminal Injuries Compensation Scheme was refused because "
           "of her unspent convictions, which arose from the exploitation itself."),
    ("19", "Survivors told the panel that a single national redress scheme would spare them "
           "from suing each institution one by one."),
    ("20", "The website asked only for a date of birth; there was no real age verification, "
           "so children could open adult accounts online in minutes."),
]


def test_the_labelled_page_is_in_the_top_five_for_each_recommendation(app, admin_client,
                                                                       inquiry):
    ensure_default_set()
    files = []
    for index, (_, text) in enumerate(LABELLED):
        # The labelled page sits among filler pages, at a different place in each document.
        pages = [FILLER[(index + k) % len(FILLER)] for k in range(3)]
        pages.insert(index % 4, text)
        files.append((samples.make_pdf(pages, title=f"Statement {index + 1}"),
                      f"statement-{index + 1}.pdf"))
    files += [(samples.make_pdf(FILLER, title="Bundle of background records"), "bundle.pdf")]
    response = upload(admin_client, inquiry, files)
    assert response.status_code in (200, 302, 303)
    admin = db.session.execute(select(User).where(User.is_admin)).scalar_one()
    misses = []
    for index, (number, _) in enumerate(LABELLED):
        rec = db.session.execute(select(Recommendation).where(
            Recommendation.number == number)).scalar_one()
        document = db.session.execute(select(Document).where(
            Document.title == f"Statement {index + 1}")).scalar_one()
        top = [(s.document.id, s.page) for s in suggestions.for_recommendation(admin, rec, 5)]
        if (document.id, index % 4 + 1) not in top:
            misses.append(f"{number}: {(document.urn, index % 4 + 1)} not in {top}")
    assert misses == []


def test_a_long_official_text_still_makes_a_query_within_the_limits(app):
    from inquiry_docs.search.query import MAX_QUERY_CHARS, parse

    rec = Recommendation(title="Access to records", keywords="records, access to files",
                         text=" ".join(f"extraordinarilylongword{n}" for n in range(200)))
    query = suggestions.query_for(rec)
    assert 0 < len(query) <= MAX_QUERY_CHARS
    assert query.startswith('records OR "access to files" OR access')
    assert parse(query).notice == ""
