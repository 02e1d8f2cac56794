"""Property tests of the search language: any text is answered, quickly, and the printed
form of a query reads back as the same query."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from inquiry_docs.access.permissions import Grant, Scope
from inquiry_docs.search import IndexPage
from inquiry_docs.search import query as ql
from inquiry_docs.search.query import QueryTooBroad
from inquiry_docs.search.whoosh import compile as whoosh_compile
from inquiry_docs.search.whoosh import marking
from inquiry_docs.search.whoosh.backend import WhooshBackend
from inquiry_docs.search.whoosh.segments import ColumnRange

pytestmark = pytest.mark.stack_free(
    "the search language, snippets and filenames, on a Whoosh index of its own")

BOUND = 1.0  # seconds for any one answer

# Text biased towards the syntax, so the odd corners come up often.
SYNTAX = st.sampled_from(['"', "(", ")", "*", "~", "-", ":", "..", " OR ", " AND ", " NOT ",
                          "title:", "date:", "urn:", "type:", "source:", "tag:", "rec:", "[",
                          "]", "~2", "abus", "school", "2012", "-01", " "])
QUERY_TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(SYNTAX, st.text(max_size=3)), max_size=60).map("".join),
)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    backend = WhooshBackend(str(tmp_path_factory.mktemp("index")))
    text = "The boy was abused at the school. Mandatory reporting was ignored by the police."
    backend.index_pages([1, 2], [
        IndexPage(1, "OLD000001", 1, text, "Statement of Shahid Khan", 1,
                  "witness_statement", "Greater Manchester Police", "OFFICIAL",
                  datetime(2012, 6, 15)),
        IndexPage(2, "OLD000002", 1, "Minutes: abuse noted, neglect reported.", "Minutes",
                  1, "exhibit", "", "OFFICIAL", None),
    ])
    return backend


SCOPE = Scope({1: Grant("OFFICIAL-SENSITIVE", True)})


def answered(call) -> float:
    start = time.perf_counter()
    try:
        call()
    except QueryTooBroad as error:
        assert error.message and error.advice
    return time.perf_counter() - start


@settings(max_examples=300, deadline=None)
@given(QUERY_TEXT)
def test_parsing_any_text_never_raises_and_is_quick(text):
    assert answered(lambda: ql.parse(text)) < BOUND


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(QUERY_TEXT)
def test_searching_any_text_never_raises_and_is_quick(backend, text):
    def search():
        results = backend.search(text, SCOPE)
        assert results.total_documents <= 2

    assert answered(search) < BOUND


# --- generated queries round-trip through their printed form ----------------------------

WORDS = st.from_regex(r"[a-z]{3,8}", fullmatch=True)
FIELDED = st.one_of(
    st.builds(ql.Word, WORDS, st.sampled_from(["title", "source", "tag", "rec"])),
    st.builds(ql.Word, st.from_regex(r"OLD\d{6}", fullmatch=True), st.just("urn")),
    st.builds(ql.Word, st.sampled_from(sorted(ql.DOC_TYPES)), st.just("type")),
    st.builds(ql.Phrase, st.lists(WORDS, min_size=1, max_size=3).map(" ".join),
              st.sampled_from(["title", "source", "type"])),
)
DATE = st.builds(lambda y, m, d, form: [f"{y}", f"{y}-{m:02d}", f"{y}-{m:02d}-{d:02d}"][form],
                 st.integers(1990, 2030), st.integers(1, 12), st.integers(1, 28),
                 st.integers(0, 2))


def _dates(pair: tuple[str, str], open_end: int) -> ql.Dates:
    low, high = sorted(pair)
    low, high = (low, high) if ql.date_bounds(ql.Dates(low, high))[0] <= \
        ql.date_bounds(ql.Dates(low, high))[1] else (low, low)
    return ql.Dates("" if open_end == 1 else low, "" if open_end == 2 else high)


LEAVES = st.one_of(
    st.builds(ql.Word, WORDS),
    st.builds(ql.Phrase, st.lists(WORDS, min_size=1, max_size=4).map(" ".join),
              st.none(), st.integers(0, ql.MAX_SLOP)),
    st.builds(ql.Prefix, WORDS, st.sampled_from([None, "title", "source"])),
    st.builds(ql.Fuzzy, WORDS, st.integers(1, ql.MAX_FUZZY), st.sampled_from([None, "title"])),
    st.builds(_dates, st.tuples(DATE, DATE), st.integers(0, 2)),
    FIELDED,
)


def _compound(children):
    return st.one_of(
        st.builds(lambda cs: ql.And(tuple(cs)), st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda cs: ql.Or(tuple(cs)), st.lists(children, min_size=2, max_size=3)),
        st.builds(ql.Not, children.filter(lambda n: not isinstance(n, ql.Not))),
    )


TREES = st.recursive(LEAVES, _compound, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_the_printed_form_of_a_query_reads_back_the_same(tree):
    printed = ql.to_text(tree)
    parsed = ql.parse(printed)
    assert not parsed.fallback, (printed, parsed.notice)
    assert parsed.node == tree, printed
    assert ql.to_text(parsed.node) == printed


PAGE_TEXT = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(["abused", "Abuses", "the", "a", "I", "réunion", "naïve", "3.5",
                              "e.g.", "don't", "x", " ", "\n", ",", "ÉCOLE", "straße", "İ",
                              "running", "ran", "1.2.3", "_", "ﬁrst"]),
             max_size=80).map(" ".join),
    # Words run together with dots and stars: where a token starts and stops is subtle.
    st.lists(st.one_of(st.sampled_from(["abused", "x", "3.5", "e.g.", "run", "ÉCOLE", "the"]),
                       st.sampled_from([" ", ".", "..", "*", "", "-", ".\n", "._"])),
             max_size=60).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(PAGE_TEXT)
def test_snippet_marks_are_the_analysers_own(backend, text):
    """The one-pass tokenizer used for snippets finds what the two analysers find."""
    schema = backend._ix().schema
    fast = marking.marking_tokenizer(schema["text"].analyzer, schema["exact"].analyzer)
    # The index's tokenizer has the shape whose whole words a regular expression finds.
    assert marking._whole_tokens(schema["text"].analyzer.items[0].expression) is not None
    slow = marking.analysed_marks(schema["text"].analyzer, schema["exact"].analyzer)
    assert list(fast(text)) == list(slow(text))


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    """Pages on every kind of boundary: first and last moments of days, months and years,
    and pages without a date; written in two commits, the second deleting from the first."""
    backend = WhooshBackend(str(tmp_path_factory.mktemp("dated")))
    moments = [datetime(2009, 12, 31, 23, 59, 59), datetime(2010, 1, 1), datetime(2012, 2, 29),
               datetime(2012, 6, 15, 12), datetime(2012, 6, 30, 23, 59), datetime(2015, 12, 31),
               datetime(2016, 1, 1, 0, 0, 1), datetime(1990, 5, 1), None, None]
    pages = [IndexPage(n, f"OLD{n:06d}", 1, "a page", "t", 1, "other", "", "OFFICIAL", when)
             for n, when in enumerate(moments, start=1)]
    backend.index_pages([p.document_id for p in pages], pages)
    backend.index_pages([4, 9], [pages[3], pages[8]])  # a second segment, deletions in the first
    return backend


DAY = st.dates(min_value=datetime(1985, 1, 1).date(), max_value=datetime(2020, 12, 31).date())
BOUND_TEXT = st.one_of(st.just(""), DAY.map(lambda d: d.isoformat()),
                       DAY.map(lambda d: d.strftime("%Y-%m")), DAY.map(lambda d: str(d.year)))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(BOUND_TEXT, BOUND_TEXT)
def test_date_ranges_from_the_column_match_whooshs_own(dated, low, high):
    parsed = ql.parse(f"date:{low}..{high}")
    searcher = dated._searcher()
    column = whoosh_compile.build(parsed.node, searcher.schema, searcher.reader(),
                                  dated._memo).query
    terms = whoosh_compile.build(parsed.node, searcher.schema, searcher.reader()).query
    if isinstance(column, ColumnRange):
        assert set(searcher.docs_for_query(column)) == set(searcher.docs_for_query(terms))
    else:  # a malformed range (no bounds) falls back to plain words, the same both ways
        assert column == terms


WORDS = ["abuse", "abused", "school", "police", "report", "neglect", "council", "home",
         "children", "trust", "zebra"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Pages over three commits: re-indexed documents leave deleted pages in old segments."""
    import random

    rng = random.Random(7)
    backend = WhooshBackend(str(tmp_path_factory.mktemp("corpus")))

    def pages(document_id: int) -> list[IndexPage]:
        return [IndexPage(document_id, f"OLD{document_id:06d}", n,
                          " ".join(rng.choices(WORDS, k=rng.randint(1, 40))),
                          " ".join(rng.choices(WORDS, k=2)), 1 + document_id % 2,
                          rng.choice(["exhibit", "transcript"]), "Oldham Council", "OFFICIAL",
                          datetime(2000 + document_id % 20, 1 + n % 12, 1) if n % 3 else None)
                for n in range(1, rng.randint(2, 6))]

    for batch in (range(1, 30), range(30, 50), range(10, 20)):
        built = [p for d in batch for p in pages(d)]
        backend.index_pages(list(batch), built)
    return backend


LEAF = st.one_of(st.sampled_from(WORDS), st.sampled_from(["abus*", "schoo*", "polic*"]),
                 st.sampled_from(["abuce~1", "counsil~1"]),
                 st.sampled_from(['"abuse school"', '"school police report"', '"trust trust"',
                                  'title:"school police"', '"zebra abused home"']),
                 st.sampled_from(["title:school", "type:exhibit", "source:council",
                                  "date:2005..2012", "date:..2003", "urn:OLD000012"]))
WORD_QUERY = st.recursive(
    LEAF, lambda inner: st.one_of(
        st.tuples(inner, inner).map(" ".join),
        st.tuples(inner, inner).map(" OR ".join),
        st.tuples(inner, inner).map(lambda pair: f"{pair[0]} -{pair[1]}"),
        inner.map(lambda q: f"({q})")),
    max_leaves=6)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(WORD_QUERY, st.sampled_from([(1,), (2,), (1, 2)]))
def test_word_queries_from_the_postings_match_whooshs_own(corpus, text, inquiries):
    """The same pages, with the same scores, as Whoosh's own matchers give (phrases too:
    pages with all the words, then their positions)."""
    from whoosh.collectors import FilterCollector

    from inquiry_docs.search.whoosh import postings
    from inquiry_docs.search.whoosh.collect import scope_filter

    scope = Scope({i: Grant("OFFICIAL", False) for i in inquiries})
    searcher = corpus._searcher()
    query = whoosh_compile.build(ql.parse(text).node, searcher.schema, searcher.reader(),
                                 corpus._memo).query
    assume(postings.supported(query))  # e.g. NOT inside OR is left to Whoosh
    allowed = corpus._allowed(scope_filter(scope))
    ours = postings.search(corpus._memo, searcher, corpus._local.leaves, query, allowed, 5.0,
                           100_000)
    collector = FilterCollector(searcher.collector(limit=None), allow=allowed)
    searcher.search_with_collector(query, collector)
    theirs = dict(collector.results().items())
    assert {d for d, _ in ours} == set(theirs), text
    for docnum, score in ours:
        assert score == pytest.approx(theirs[docnum], rel=1e-6), text


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="abcehilmnoprstuz", min_size=1, max_size=9),
       st.sampled_from([None, 1, 2]), st.sampled_from(["exact", "title", "urn"]))
def test_expansions_from_remembered_words_match_the_readers(corpus, text, distance, field):
    """* and ~ words expand to the words the index reader itself would give."""
    searcher = corpus._searcher()
    reader = searcher.reader()
    if distance is None:
        theirs = {w.decode("utf-8") for w in reader.expand_prefix(field, text)}
    else:
        theirs = set(reader.terms_within(field, text, distance, prefix=1))
    ours = list(whoosh_compile._expand(corpus._lexicons(field), text, distance))
    assert len(ours) == len(set(ours)) and set(ours) == theirs


@settings(max_examples=200, deadline=None)
@given(PAGE_TEXT, st.lists(st.sampled_from(["abus", "\x1fabused", "run", "\x1fran", "école",
                                             "\x1fthe", "first", "3.5", "\x1fnaïve", "\x1fx",
                                             "\x1f3.5", "\x1fabused.x", "x.run", "\x1fe.g"]),
                            max_size=4).map(set))
@example("abused.x x..3.5 e.g.run *x. run. x.run", {"\x1fx", "run", "\x1f3.5"})
def test_snippet_spans_are_the_marked_tokens(backend, text, terms):
    """The shortcut that finds marked words finds the places the tokens say, once each."""
    from inquiry_docs.search.snippets import match_spans

    schema = backend._ix().schema
    fast = marking.marking_tokenizer(schema["text"].analyzer, schema["exact"].analyzer)
    # The index's tokenizer has the shape whose whole words a regular expression finds.
    assert marking._whole_tokens(schema["text"].analyzer.items[0].expression) is not None
    slow = marking.analysed_marks(schema["text"].analyzer, schema["exact"].analyzer)
    expected = sorted({(t.startchar, t.endchar) for t in slow(text) if t.text in terms})
    assert match_spans(text, terms, fast) == expected


def test_long_posting_lists_are_read_whole_block_by_block(tmp_path):
    """Words on hundreds of pages span many of Whoosh's posting blocks (128 a block), and a
    segment with deletions wraps its matcher: the ids and weights read for the remembered
    postings are the ones Whoosh's own matcher steps through."""
    from inquiry_docs.search.whoosh import postings

    backend = WhooshBackend(str(tmp_path / "index"))

    def pages(document_id: int) -> list[IndexPage]:
        return [IndexPage(document_id, f"LNG{document_id:06d}", n,
                          "common " * (1 + (document_id + n) % 5) + ("rare" if n == 3 else ""),
                          "title", 1, "exhibit", "", "OFFICIAL", None) for n in range(1, 8)]

    backend.index_pages(list(range(1, 120)), [p for d in range(1, 120) for p in pages(d)])
    backend.index_pages(list(range(50, 60)), [p for d in range(50, 60) for p in pages(d)])
    searcher = backend._searcher()
    checked = 0
    for leaf in backend._local.leaves:
        evaluator = postings.Evaluator(backend._memo, leaf, searcher, float("inf"))
        reader = evaluator.reader
        for word in ("common", "rare"):
            text = reader.schema["text"].to_bytes(word)
            if ("text", text) not in reader:
                continue
            ids, weights = evaluator.postings("text", text)
            matcher = reader.postings("text", text)
            matcher = getattr(matcher, "child", matcher)
            expected_ids, expected_weights = [], []
            while matcher.is_active():
                expected_ids.append(matcher.id())
                expected_weights.append(matcher.weight())
                matcher.next()
            assert list(ids) == expected_ids
            assert list(weights) == pytest.approx(expected_weights)
            checked += len(expected_ids)
    assert checked > 800  # "common" on every page of the first segment: many blocks
