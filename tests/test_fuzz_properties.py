"""Property tests of the snippet builder and filename handling (the query parser's are in
test_query_fuzz.py): whatever the text, the output is safe and faithful."""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inquiry_docs.evidence.ingest import clean_filename
from inquiry_docs.search import snippets
from inquiry_docs.search.whoosh.backend import WhooshBackend

pytestmark = pytest.mark.stack_free(
    "the search language, snippets and filenames, on a Whoosh index of its own")

# Text biased towards markup, entities and the words searched for.
PIECES = st.sampled_from(["<", ">", "&", '"', "'", "<mark>", "</mark>", "&amp;", "<script>",
                          "abuse", "Abuse", "ABUSED", "school", " ", "\n", "\t", "…", "é",
                          "\u202e", "\x00"])
TEXT = st.one_of(st.text(max_size=600),
                 st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=200).map("".join))
TERMS = st.sets(st.sampled_from(["abus", "abuse", "school", "mark", "script", "amp"]),
                max_size=3)
MARK = re.compile(r"</?mark>")


@pytest.fixture(scope="module")
def tokenize(tmp_path_factory):
    return WhooshBackend(str(tmp_path_factory.mktemp("index"))).tokenizer()


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, terms=TERMS)
def test_a_snippet_is_escaped_text_of_the_page_with_only_marks_added(tokenize, text, terms):
    out = str(snippets.snippet(text, terms, tokenize))
    # The only tags are <mark> pairs, balanced and never nested.
    assert re.sub(r"</?mark>", "", out).count("<") == 0
    assert re.sub(r"</?mark>", "", out).count(">") == 0
    assert re.findall(r"</?mark>", out) == ["<mark>", "</mark>"] * (out.count("<mark>"))
    assert '"' not in out and "'" not in out  # quotes are escaped too
    # Unescaped and unmarked, it is a stretch of the page's text (ellipses aside).
    plain = html.unescape(MARK.sub("", out)).strip("…")
    assert plain in " ".join(text.split())
    assert len(plain) <= snippets.WIDTH


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, terms=TERMS)
def test_every_mark_holds_a_searched_word(tokenize, text, terms):
    out = str(snippets.snippet(text, terms, tokenize))
    for marked in re.findall(r"<mark>(.*?)</mark>", out):
        analysed = {t.text for t in tokenize(html.unescape(marked))}
        assert analysed & terms


NAMES = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(["..", "/", "\\", "C:", "évidence", "证据", ".pdf", "\x00",
                              "\u202e", "\r\n", " ", "~", "$HOME", "%2e%2e"]),
             max_size=40).map("".join),
)


@settings(max_examples=500, deadline=None)
@given(name=NAMES)
def test_a_cleaned_filename_is_one_printable_component(name):
    cleaned = clean_filename(name)
    assert cleaned and len(cleaned) <= 255
    assert "/" not in cleaned and "\\" not in cleaned
    # No control, format (bidi overrides), surrogate or private-use characters.
    assert not any(unicodedata.category(ch).startswith("C") for ch in cleaned)
    assert cleaned == cleaned.strip()
    assert clean_filename(cleaned) == cleaned  # cleaning twice changes nothing


@settings(max_examples=200, deadline=None)
@given(name=NAMES)
def test_a_filename_never_decides_where_the_original_is_stored(name, tmp_path_factory):
    import io

    from inquiry_docs.evidence.storage import Store

    root = tmp_path_factory.mktemp("store", numbered=True)
    store = Store(root)
    data = name.encode("utf-8", "surrogatepass") + b"!"
    with store.stage(io.BytesIO(data), 10_000) as staged:
        store.commit(staged)
    stored = [p for p in root.rglob("*") if p.is_file()]
    assert stored == [store.path_for(staged.sha256)]
    assert stored[0].read_bytes() == data
