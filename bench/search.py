"""Search benchmark: search latency and results-page latency over a large synthetic index.

    python bench/search.py                                # 100,000 pages, 50 queries
    python bench/search.py --pages 30000 --keep /tmp/sb   # build once, reuse on later runs
    python bench/search.py --pages 300 --queries 10 --no-write   # a smoke run
    python bench/search.py --backend postgres --pages 1000000     # PostgreSQL search

1. Build (timed): a real app on temporary directories (`create_app`, `upgrade_database`),
   two inquiries and their documents (10 pages each) inserted with SQLAlchemy core inserts,
   then written to the Whoosh index from those rows by `indexing.index_documents`, INDEX_BATCH
   documents per commit, as `indexing.index_pending` does (or --index-batch N per commit: all
   of them in one leaves one segment, with none of the merges that a commit every INDEX_BATCH
   documents makes on the way). Reports build time and index size.
2. Search alone: `WhooshBackend.search` for the first results page (20 documents) with
   snippets from the database (`search.find.page_texts`, as the results page uses), in a
   scope that sees everything in both inquiries, in a process whose start-up objects are
   left out of garbage collection as `serve` leaves them (web.server.settle_heap).
3. Results page: the app served as `inquiry-docs serve` serves it (werkzeug, a fixed
   pool of request threads) on 127.0.0.1; a signed-in member of both inquiries fetches
   `/?q=...` with urllib.

Each query runs once to warm up, then --repeat times (default 2); p50/p95/max are taken
over every measured run. The text is English-like: about 1,000 common English words and
the inquiry vocabulary of this app, then generated rarer words, 40,000 in all, drawn with
a Zipf distribution (exponent 1.0), with a few multi-word phrases of the domain put on
some pages; seeded, so a run is repeatable. The result is printed and appended to
docs/benchmarks.md (unless --no-write). Targets at 100,000 pages: p95 < 150 ms for the
search call with snippets, p95 < 250 ms for the results page. If one is missed, the slowest
query is profiled with cProfile and the functions taking most time are listed.

With `--backend postgres` (SEARCH_BACKEND=postgres, see bench/search_pg.py) the database is
PostgreSQL (a throwaway cluster, or --database-url), pages go in with COPY, and the build is
`PostgresBackend.rebuild` (every search row in one pass, indexes after, then VACUUM
ANALYZE); the index size is
`pg_total_relation_size` of the search tables. Target at 1,000,000 pages: p95 < 300 ms
for the search call with snippets, and < 400 ms for the results page.

With `--backend tantivy` (SEARCH_BACKEND=tantivy) the build is the same index job as on
Whoosh (`indexing.index_documents`, INDEX_BATCH documents per commit, as `reindex` and the
index job write). Targets: at 100,000 pages the search call's p95 <= 15 ms (and the results
page's <= 150 ms, the 1,000,000-page figure); at 1,000,000 pages the search call's p95
<= 50 ms, the results page's <= 150 ms and the build <= 15 minutes.

Peak memory (VmHWM) of this process is reported for the build and, reset before them, for
the measurements: the search calls and the results pages are served from this process
(the server runs in one of its threads), so that figure is a serving process's.
"""

from __future__ import annotations

import argparse
import cProfile
import http.cookiejar
import io
import json
import logging
import os
import pstats
import random
import shlex
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import search_pg  # bench/search_pg.py, beside this script
from procs import peak_rss_self, reset_peak_rss  # bench/procs.py, beside this script
from report import append, machine  # bench/report.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
# versions named in the report
PACKAGES = ("Whoosh-Reloaded", "tantivy", "Flask", "Werkzeug", "SQLAlchemy", "psycopg")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEARCH_TARGET_MS = 150.0
PAGE_TARGET_MS = 250.0
TARGET_PAGES = 100_000
# backend -> (search p95 ms, results page p95 ms, pages the targets are set at)
TARGETS = {"whoosh": (SEARCH_TARGET_MS, PAGE_TARGET_MS, TARGET_PAGES),
           "postgres": (300.0, 400.0, 1_000_000),
           "tantivy": (15.0, 150.0, TARGET_PAGES)}
# Targets set at a larger size, used from that size on: backend -> [(pages, search p95 ms,
# results page p95 ms, build minutes or None)]
LARGER_TARGETS = {"tantivy": [(1_000_000, 50.0, 150.0, 15.0)]}


def targets(backend: str, pages: int) -> tuple[float, float, int, float | None]:
    """(search p95 ms, results page p95 ms, pages they are set at, build minutes) for a
    collection of `pages` pages: the largest size's targets that it reaches."""
    search_ms, page_ms, at = TARGETS[backend]
    chosen = (search_ms, page_ms, at, None)
    for size, search_ms, page_ms, minutes in LARGER_TARGETS.get(backend, []):
        if pages >= size:
            chosen = (search_ms, page_ms, size, minutes)
    return chosen
PAGES_PER_DOC = 10
PER_PAGE = 20
VOCABULARY = 40_000
ZIPF = 1.0
PASSWORD = "bench password that is long enough"  # noqa: S105 - a throwaway account
EMAIL = "reader@bench.example"
FORMAT = 1  # bump when the generated corpus changes, so --keep rebuilds

# --- English-like text -----------------------------------------------------------------------

# Common English words, roughly most frequent first.
COMMON = """the of and to a in is it you that he was for on are with as i his they be at one
have this from or had by not word but what some we can out other were all there when up use
your how said an each she which do their time if will way about many then them write would
like so these her long make thing see him two has look more day could go come did number
sound no most people my over know water than call first who may down side been now find any
new work part take get place made live where after back little only round man year came show
every good me give our under name very through just form sentence great think say help low
line differ turn cause much mean before move right boy old too same tell does set three want
air well also play small end put home read hand port large spell add even land here must big
high such follow act why ask men change went light kind off need house picture try us again
animal point mother world near build self earth father head stand own page should country
found answer school grow study still learn plant cover food sun four between state keep eye
never last let thought city tree cross farm hard start might story saw far sea draw left late
run while press close night real life few north open seem together next white children begin
got walk example ease paper group always music those both mark often letter until mile river
car feet care second book carry took science eat room friend began idea fish mountain stop
once base hear horse cut sure watch colour face wood main enough plain girl usual young ready
above ever red list though feel talk bird soon body dog family direct pose leave song measure
door product black short numeral class wind question happen complete ship area half rock
order fire south problem piece told knew pass since top whole king space heard best hour
better true during hundred five remember step early hold west ground interest reach fast verb
sing listen six table travel less morning ten simple several vowel toward war lay against
pattern slow centre love person money serve appear road map rain rule govern pull cold notice
voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star
box noun field rest correct able pound done beauty drive stood contain front teach week final
gave green oh quick develop ocean warm free minute strong special mind behind clear tail
produce fact street inch multiply nothing course stay wheel full force blue object decide
surface deep moon island foot system busy test record boat common gold possible plane stead
dry wonder laugh thousand ago ran check game shape equate hot miss brought heat snow tire bring
yes distant fill east paint language among grand ball yet wave drop heart am present heavy
dance engine position arm wide sail material size vary settle speak weight general ice matter
circle pair include divide syllable felt perhaps pick sudden count square reason length
represent art subject region energy hunt probable bed brother egg ride cell believe fraction
forest sit race window store summer train sleep prove lone leg exercise wall catch mount wish
sky board joy winter sat written wild instrument kept glass grass cow job edge sign visit past
soft fun bright gas weather month million bear finish happy hope flower clothe strange gone
jump baby eight village meet root buy raise solve metal whether push seven paragraph third
shall held hair describe cook floor either result burn hill safe cat century consider type
law bit coast copy phrase silent tall sand soil roll temperature finger industry value fight
lie beat excite natural view sense ear else quite broke case middle kill son lake moment scale
loud spring observe child straight consonant nation dictionary milk speed method organ pay
age section dress cloud surprise quiet stone tiny climb cool design poor lot experiment bottom
key iron single stick flat twenty skin smile crease hole trade melody trip office receive row
mouth exact symbol die least trouble shout except wrote seed tone join suggest clean break
lady yard rise bad blow oil blood touch grew cent mix team wire cost lost brown wear garden
equal sent choose fell fit flow fair bank collect save control decimal gentle woman captain
practice separate difficult doctor please protect noon whose locate ring character insect
caught period indicate radio spoke atom human history effect electric expect crop modern
element hit student corner party supply bone rail imagine provide agree thus capital chair
danger fruit rich thick soldier process operate guess necessary sharp wing create neighbour
wash bat rather crowd corn compare poem string bell depend meat rub tube famous dollar stream
fear sight thin triangle planet hurry chief colony clock mine tie enter major fresh search
send yellow gun allow print dead spot desert suit current lift rose continue block chart hat
sell success company subtract event particular deal swim term opposite wife shoe shoulder
spread arrange camp invent cotton born determine quart nine truck noise level chance gather
shop stretch throw shine property column molecule select wrong grey repeat require broad
prepare salt nose plural anger claim continent oxygen sugar death pretty skill women season
solution magnet silver thank branch match suffix especially fig afraid huge sister steel
discuss forward similar guide experience score apple bought led pitch coat mass card band rope
slip win dream evening condition feed tool total basic smell valley nor double seat arrive
master track parent shore division sheet substance favour connect post spend chord fat glad
original share station dad bread charge proper bar offer segment slave duck instant market
degree populate chick dear enemy reply drink occur support speech nature range steam motion
path liquid log meant quotient teeth shell neck"""

# The language of the documents an inquiry receives.
DOMAIN = """inquiry witness statement evidence council police officer report review meeting
records abuse allegation complaint safeguarding care social worker services investigation
interview panel hearing transcript document disclosure bundle solicitor counsel
recommendation institution authority concern referral response failure decision procedure
policy manager staff member victim survivor account minutes email memo file annex exhibit
incident governance training vetting barring oversight trust diocese church residential
placement foster local national independent government department secretary minister
parliament restriction privilege redaction sensitive official headteacher teacher pupil
governor inspection inspector ofsted constable detective sergeant superintendent custody
prosecution caution conviction court magistrate judge sentence probation youth adolescent
missing runaway exploitation grooming neglect harm risk assessment threshold strategy
conference protection plan register chronology caseworker supervisor director chief
executive councillor cabinet committee agenda audit inspectorate guidance regulation
statute duty breach negligence liability apology redress compensation scheme helpline
whistleblower anonymous confidential informant parish vicar priest bishop chaplain warden
hostel dormitory matron housemaster boarding curriculum timetable attendance exclusion
suspension expulsion transfer admission enrolment consent parental guardian kinship carer
adoption fostering respite disability therapist psychologist psychiatrist nurse paediatrician
hospital clinic medical examination injury bruising disclosure interviewer recording
videotape notebook diary logbook ledger archive retention destruction shredding minute"""

PHRASES = (
    "mandatory reporting",
    "local authority designated officer",
    "serious case review",
    "children's social care",
    "police national computer",
    "disclosure and barring service",
    "duty of candour",
    "designated safeguarding lead",
    "residential care home",
    "section 47 enquiry",
    "strategy meeting",
    "child protection conference",
    "failure to act",
    "position of trust",
    "missing from home",
)

SOURCES = (
    "Northshire Police",
    "Eastvale Borough Council",
    "Department for Education",
    "St Aldric's School",
    "Westmoor Children's Services",
    "Diocese of Kellbridge",
    "Northshire County Council",
    "Crown Prosecution Service",
    "Riverside Care Trust",
    "Kellbridge Constabulary",
    "Office of the Children's Commissioner",
    "Private individual",
)
DOC_TYPES = (
    "witness_statement",
    "exhibit",
    "transcript",
    "submission",
    "report",
    "correspondence",
    "other",
)
TITLES = (
    "Witness statement of {name}",
    "Exhibit {n}: {word} records",
    "Transcript of hearing day {n}",
    "Submission on {word} and {word2}",
    "Report of the {word} review",
    "Letter about {word} from {source}",
    "{source} file note on {word}",
    "Annual report {year}",
    "Minutes of the {word} committee",
)

ONSETS = ["b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m"]
ONSETS += ["n", "p", "pl", "pr", "r", "s", "sh", "st", "t", "th", "tr", "v", "w", "wh", "z"]
NUCLEI = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "y"]
CODAS = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng", "rt", "ld"]
SUFFIXES = ["", "", "", "ing", "ed", "er", "ly", "tion", "ment", "ness", "al", "ous"]


class Vocabulary:
    """COMMON, then DOMAIN, then generated words; the word of rank r has weight 1 / r**ZIPF."""

    def __init__(self, seed: int, size: int = VOCABULARY) -> None:
        rng = random.Random(seed)
        words = list(dict.fromkeys(COMMON.split()))
        domain = [w for w in dict.fromkeys(DOMAIN.split()) if w not in set(words)]
        # Domain words sit among the common ones (ranks ~150 to ~1,500), as in inquiry papers.
        for index, word in enumerate(domain):
            words.insert(150 + index * 4, word)
        known = set(words)
        while len(words) < size:
            word = "".join(
                rng.choice(ONSETS) + rng.choice(NUCLEI) + rng.choice(CODAS)
                for _ in range(rng.choice((1, 2, 2, 3)))
            ) + rng.choice(SUFFIXES)
            if len(word) > 3 and word not in known:
                known.add(word)
                words.append(word)
        self.words = words
        self.common_count = len(list(dict.fromkeys(COMMON.split())))
        self.domain_count = len(domain)
        total, self.cumulative = 0.0, []
        for rank in range(1, len(words) + 1):
            total += 1.0 / rank**ZIPF
            self.cumulative.append(total)

    def draw(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=count)

    def page(self, rng: random.Random) -> str:
        """About 2,000 characters in sentences and paragraphs, sometimes with a phrase."""
        words = self.draw(rng, rng.randint(300, 400))
        if rng.random() < 0.12:
            at = rng.randrange(len(words))
            words[at:at] = rng.choice(PHRASES).split()
        out, sentence, paragraph = [], [], []
        length = rng.randint(6, 22)
        for word in words:
            sentence.append(word)
            if len(sentence) >= length:
                paragraph.append(" ".join(sentence).capitalize() + ".")
                sentence, length = [], rng.randint(6, 22)
                if len(paragraph) >= rng.randint(3, 7):
                    out.append(" ".join(paragraph))
                    paragraph = []
        if sentence:
            paragraph.append(" ".join(sentence).capitalize() + ".")
        if paragraph:
            out.append(" ".join(paragraph))
        return "\n".join(out)


# --- the queries -------------------------------------------------------------------------------

# (kind, text); {rareN} is the generated word of vocabulary rank N (it depends on the seed).
QUERIES: tuple[tuple[str, str], ...] = (
    ("term", "safeguarding"),
    ("term", "headteacher"),
    ("term", "people"),
    ("term", "grooming"),
    ("term", "{rare3000}"),
    ("term", "{rare12000}"),
    ("term", "compensation"),
    ("term", "children"),
    ("and", "police officer"),
    ("and", "school abuse allegation"),
    ("and", "council social worker referral"),
    ("and", "missing runaway police"),
    ("and", "children care home"),
    ("and", "foster placement neglect"),
    ("and", "vicar diocese complaint"),
    ("and", "people time work"),
    ("or", "neglect OR exploitation"),
    ("or", "school abuse OR neglect"),
    ("not", "police NOT court"),
    ("not", "care -residential"),
    ("phrase", '"mandatory reporting"'),
    ("phrase", '"serious case review"'),
    ("phrase", '"local authority designated officer"'),
    ("phrase", '"position of trust"'),
    ("phrase", '"of the"'),
    ("phrase", '"strategy meeting" police'),
    ("near", '"police school"~5'),
    ("near", '"abuse report"~10'),
    ("prefix", "safeguard*"),
    ("prefix", "investig*"),
    ("prefix", "polic*"),
    ("prefix", "recomm* council"),
    ("fuzzy", "headteachr~1"),
    ("fuzzy", "{rare5000}~1"),
    ("field", "type:witness_statement abuse"),
    ("field", 'type:"witness statement"'),
    ("field", "source:police"),
    ("field", 'source:"northshire police" allegation'),
    ("field", "title:statement"),
    ("field", 'title:"annual report"'),
    ("field", "title:review safeguarding"),
    ("field", "urn:BEA000123"),
    ("date", "date:2012 police"),
    ("date", "date:2005..2010 school"),
    ("date", "date:1995-03"),
    ("date", "date:..1990 complaint"),
    ("facets", "type:report source:council abuse"),
    ("facets", "type:transcript date:2000..2015 teacher"),
    ("facets", "source:diocese date:1980..2000 priest"),
    ("facets", "type:correspondence source:police title:letter"),
)


def queries(count: int, vocabulary: Vocabulary) -> list[tuple[str, str]]:
    """`count` of the fixed queries, spread evenly over the list (so over the kinds)."""
    count = max(1, min(count, len(QUERIES)))
    chosen = [QUERIES[i * len(QUERIES) // count] for i in range(count)]
    out = []
    for kind, text in chosen:
        while "{rare" in text:
            start = text.index("{rare")
            end = text.index("}", start)
            rank = min(int(text[start + 5 : end]), len(vocabulary.words) - 1)
            text = text[:start] + vocabulary.words[rank] + text[end + 1 :]
        out.append((kind, text))
    return out


# --- building --------------------------------------------------------------------------------


def make_app(base: Path, database_url: str | None = None, search: str = "whoosh"):
    """The app on `base`; on PostgreSQL (and its search backend) when given its URL,
    else on SQLite with the `search` backend (whoosh or tantivy)."""
    from inquiry_docs import create_app
    from inquiry_docs.db import upgrade_database

    app = create_app(
        {
            "INSTANCE_DIR": str(base / "instance"),
            "UPLOAD_DIR": str(base / "uploads"),
            "INDEX_DIR": str(base / "index"),
            "DATABASE_URL": database_url or f"sqlite:///{base}/db.sqlite",
            "SEARCH_BACKEND": "postgres" if database_url else search,
            "QUEUE_URL": f"sqlite:///{base}/queue.db",
            "QUEUE_IMMEDIATE": True,
            "SECRET_KEY": "bench-secret",
            "WTF_CSRF_ENABLED": False,  # the sign-in form is posted without scraping its token
        }
    )
    with app.app_context():
        upgrade_database()
    return app


@dataclass
class Build:
    pages: int
    documents: int
    seed: int
    insert_seconds: float
    index_seconds: float
    index_bytes: int
    text_bytes: int
    format: int = FORMAT
    backend: str = "whoosh"
    index_batch: int | None = None  # documents per Whoosh commit (None: INDEX_BATCH)
    peak_mb: float | None = None  # VmHWM of the building process


def _directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(app, base: Path, pages: int, seed: int, vocabulary: Vocabulary,
          pg_index: str | None = None, index_batch: int | None = None) -> Build:
    from sqlalchemy import insert, select

    from inquiry_docs.access import signin as auth
    from inquiry_docs.db import db
    from inquiry_docs.evidence import indexing
    from inquiry_docs.models import Document, Inquiry, Membership, Page, Status

    rng = random.Random(seed)
    postgres = app.config["SEARCH_BACKEND"] == "postgres"
    text_bytes = 0
    start = time.perf_counter()
    with app.app_context():
        inquiries = [
            Inquiry(code="BEA", name="Bench inquiry A"),
            Inquiry(code="BEB", name="Bench inquiry B"),
        ]
        db.session.add_all(inquiries)
        db.session.flush()
        user, _ = auth.create_user(
            EMAIL,
            role="reader",
            inquiry=inquiries[0],
            password=PASSWORD,
            clearance="OFFICIAL-SENSITIVE",
        )
        db.session.flush()
        db.session.execute(
            Membership.__table__.update()
            .where(Membership.user_id == user.id)
            .values(restricted_access=True)
        )
        db.session.add(
            Membership(
                user_id=user.id,
                inquiry_id=inquiries[1].id,
                role="reader",
                clearance="OFFICIAL-SENSITIVE",
                restricted_access=True,
            )
        )
        db.session.commit()
        numbers = {i.id: 0 for i in inquiries}
        remaining, chunk = pages, 200
        doc_ids: list[int] = []
        while remaining > 0:
            doc_rows, page_rows = [], []
            for _ in range(min(chunk, (remaining + PAGES_PER_DOC - 1) // PAGES_PER_DOC)):
                inquiry = inquiries[0] if rng.random() < 0.6 else inquiries[1]
                numbers[inquiry.id] += 1
                source = rng.choice(SOURCES)
                year = rng.randint(1970, 2020)
                title = rng.choice(TITLES).format(
                    name=rng.choice(vocabulary.words[3000:]).capitalize(),
                    n=rng.randint(1, 300),
                    word=rng.choice(vocabulary.words[100:1500]),
                    word2=rng.choice(vocabulary.words[100:1500]),
                    source=source,
                    year=year,
                )
                count = min(PAGES_PER_DOC, remaining)
                remaining -= count
                texts = [vocabulary.page(rng) for _ in range(count)]
                text_bytes += sum(len(t.encode()) for t in texts)
                doc_rows.append(
                    {
                        "inquiry_id": inquiry.id,
                        "urn": f"{inquiry.code}{numbers[inquiry.id]:06d}",
                        "title": title,
                        "original_filename": f"doc-{len(doc_ids)}.pdf",
                        "mime": "application/pdf",
                        "size": 2048 * count,
                        "sha256": f"{inquiry.id}{numbers[inquiry.id]:063d}"[-64:],
                        "page_count": count,
                        "document_date": datetime(year, rng.randint(1, 12), rng.randint(1, 28)),
                        "doc_type": rng.choice(DOC_TYPES),
                        "source": source,
                        "marking": "OFFICIAL-SENSITIVE" if rng.random() < 0.2 else "OFFICIAL",
                        "restricted": rng.random() < 0.02,
                        "status": Status.INDEXING,
                        "_texts": texts,
                    }
                )
            texts_of = [row.pop("_texts") for row in doc_rows]
            ids = (
                db.session.execute(
                    insert(Document).returning(Document.id, sort_by_parameter_order=True), doc_rows
                )
                .scalars()
                .all()
            )
            for doc_id, texts in zip(ids, texts_of, strict=True):
                page_rows += [
                    {"document_id": doc_id, "number": n, "text": t} for n, t in enumerate(texts, 1)
                ]
            if postgres:
                search_pg.copy_pages(db.session, page_rows)
            else:
                db.session.execute(insert(Page), page_rows)
            doc_ids += ids
        for inquiry in inquiries:
            inquiry.last_number = numbers[inquiry.id]
        db.session.commit()
        insert_seconds = time.perf_counter() - start
        print(
            f"Inserted {len(doc_ids):,} documents, {pages:,} pages in {insert_seconds:.1f} s",
            file=sys.stderr,
        )
        db.session.remove()

    if postgres:
        index_seconds = search_pg.build_index(app, pg_index)
        return Build(pages, len(doc_ids), seed, insert_seconds, index_seconds,
                     search_pg.index_bytes(app), text_bytes, backend="postgres",
                     peak_mb=peak_rss_self() / 2**20)
    with app.app_context():
        # Index from the rows, a batch per commit, as indexing.index_pending does.
        batch = index_batch or int(app.config["INDEX_BATCH"])
        start = time.perf_counter()
        done = 0
        while True:
            ids = (
                db.session.execute(
                    select(Document.id)
                    .where(Document.status == Status.INDEXING)
                    .order_by(Document.id)
                    .limit(batch)
                )
                .scalars()
                .all()
            )
            if not ids:
                break
            indexing.index_documents(ids)
            done += len(ids)
            elapsed = time.perf_counter() - start
            print(
                f"  indexed {done:,}/{len(doc_ids):,} documents, {elapsed:.0f} s "
                f"({done * PAGES_PER_DOC / elapsed:,.0f} pages/s)",
                file=sys.stderr,
            )
        index_seconds = time.perf_counter() - start
        db.session.remove()
    return Build(
        pages,
        len(doc_ids),
        seed,
        insert_seconds,
        index_seconds,
        _directory_bytes(base / "index"),
        text_bytes,
        backend=app.config["SEARCH_BACKEND"],
        index_batch=index_batch,
        peak_mb=peak_rss_self() / 2**20,
    )


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    query: str
    ms: float
    documents: int = 0
    note: str = ""
    cpu_ms: float = 0.0  # CPU time of this process, all threads (the shared machine's
    # load stretches wall time, not this)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def full_scope(app):
    from sqlalchemy import select

    from inquiry_docs.access.permissions import Grant, Scope
    from inquiry_docs.db import db
    from inquiry_docs.models import Inquiry

    ids = db.session.execute(select(Inquiry.id)).scalars().all()
    return Scope({i: Grant("OFFICIAL-SENSITIVE", True) for i in ids})


def search_once(app, query: str, scope) -> tuple[float, int, str, float]:
    from inquiry_docs.db import db
    from inquiry_docs.search.find import page_texts
    from inquiry_docs.search.query import QueryTooBroad

    backend = app.extensions["search"]
    cpu = time.process_time()
    start = time.perf_counter()
    try:
        results = backend.search(query, scope, offset=0, limit=PER_PAGE, snippet_text=page_texts)
        found, note = results.total_documents, ""
    except QueryTooBroad as error:
        found, note = 0, f"too broad: {error.message}"
    ms = 1000 * (time.perf_counter() - start)
    cpu_ms = 1000 * (time.process_time() - cpu)
    db.session.rollback()
    return ms, found, note, cpu_ms


def measure_search(app, chosen: list[tuple[str, str]], repeat: int) -> list[Sample]:
    from inquiry_docs.web.server import settle_heap

    settle_heap()  # as `inquiry-docs serve` does before it answers (see server.settle_heap)
    samples = []
    with app.app_context():
        scope = full_scope(app)
        for kind, query in chosen:
            search_once(app, query, scope)  # warm up
            for _ in range(repeat):
                ms, found, note, cpu_ms = search_once(app, query, scope)
                samples.append(Sample(kind, query, ms, found, note, cpu_ms))
    return samples


class Server:
    """The app on the server `inquiry-docs serve` uses, on a free port."""

    def __init__(self, app) -> None:
        from inquiry_docs.web.server import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.server = make_server("127.0.0.1", 0, app)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join()


def signed_in_opener(url: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    body = urllib.parse.urlencode({"email": EMAIL, "password": PASSWORD}).encode()
    with opener.open(f"{url}/auth/login", data=body, timeout=60) as response:
        response.read()
        if response.url.rstrip("/").endswith("/auth/login"):
            raise SystemExit("could not sign in to the benchmark server")
    return opener


def fetch_page(opener, url: str, query: str) -> tuple[float, int, str, float]:
    target = f"{url}/?{urllib.parse.urlencode({'q': query})}"
    cpu = time.process_time()  # the server is a thread of this process: both sides
    start = time.perf_counter()
    with opener.open(target, timeout=120) as response:
        body = response.read()
        status = response.status
    ms = 1000 * (time.perf_counter() - start)
    cpu_ms = 1000 * (time.process_time() - cpu)
    note = "" if status == 200 else f"HTTP {status}"
    if b"govuk-error-summary" in body or b"took longer than" in body:
        note = note or "too broad"
    return ms, len(body), note, cpu_ms


def measure_pages(app, chosen: list[tuple[str, str]], repeat: int) -> list[Sample]:
    samples = []
    with Server(app) as server:
        opener = signed_in_opener(server.url)
        for kind, query in chosen:
            fetch_page(opener, server.url, query)  # warm up
            for _ in range(repeat):
                ms, size, note, cpu_ms = fetch_page(opener, server.url, query)
                samples.append(Sample(kind, query, ms, size, note, cpu_ms))
    return samples


def searcher_open_ms(app, times: int = 5) -> float:
    """What opening a Whoosh searcher costs (each new server thread opens its own)."""
    if app.config["SEARCH_BACKEND"] != "whoosh":
        return 0.0  # nothing to open: each search is SQL on a pooled connection
    ix = app.extensions["search"]._ix()
    costs = []
    for _ in range(times):
        start = time.perf_counter()
        searcher = ix.searcher()
        costs.append(1000 * (time.perf_counter() - start))
        searcher.close()
    return sorted(costs)[len(costs) // 2]


def profile(app, query: str) -> list[str]:
    """cProfile of one search call (with snippets): the functions taking the most time."""
    with app.app_context():
        scope = full_scope(app)
        search_once(app, query, scope)
        profiler = cProfile.Profile()
        profiler.enable()
        ms, _, _, _ = search_once(app, query, scope)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime")
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:10]  # type: ignore[attr-defined]
    lines = [f"`{query}`: {ms:.0f} ms under the profiler, {total * 1000:.0f} ms own time in all"]
    for (filename, line, name), (_, calls, tottime, cumtime, _) in rows:
        where = Path(filename)
        short = "/".join(where.parts[-2:]) if where.parts else filename
        lines.append(
            f"{short}:{line} `{name}`: {tottime * 1000:.0f} ms own, "
            f"{cumtime * 1000:.0f} ms cumulative, {calls:,} calls"
        )
    return lines


# --- the report --------------------------------------------------------------------------------


def _stats(samples: list[Sample], cpu: bool = False) -> tuple[float, float, float]:
    values = [s.cpu_ms if cpu else s.ms for s in samples]
    return percentile(values, 50), percentile(values, 95), max(values, default=0.0)


def render(
    args,
    built: Build,
    reused: bool,
    vocabulary: Vocabulary,
    chosen,
    search: list[Sample],
    pages: list[Sample],
    open_ms: float,
    profiled: list[str],
    load,
    server: str = "",
    serving_mb: float | None = None,
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    s50, s95, smax = _stats(search)
    p50, p95, pmax = _stats(pages)
    c50, c95, _ = _stats(search, cpu=True)
    h50, h95, _ = _stats(pages, cpu=True)
    search_target, page_target, target_pages, build_minutes = targets(built.backend, built.pages)
    full = built.pages >= target_pages
    # tantivy's targets are "at most"; the older ones "under"
    at_most = built.backend == "tantivy"
    search_ok = s95 <= search_target if at_most else s95 < search_target
    page_ok = (p95 <= page_target if at_most else p95 < page_target) if pages else True
    build_ok = build_minutes is None or built.index_seconds <= 60 * build_minutes
    sign = "<=" if at_most else "<"
    verdict = ("PASS" if search_ok and page_ok and build_ok else "FAIL") + (
        ""
        if full
        else f" at {built.pages:,} pages; the {target_pages:,}-page target size was not run"
    )
    postgres = built.backend == "postgres"
    how_indexed = (
        "`PostgresBackend.rebuild`: every search row in one CREATE TABLE ... AS SELECT, "
        "indexes built after the load, then VACUUM ANALYZE" if postgres else
        f"`indexing.index_documents`, {built.index_batch or 'INDEX_BATCH'} documents per commit, "
        "one process")
    backend_name = {"postgres": "PostgresBackend", "tantivy": "TantivyBackend"}.get(
        built.backend, "WhooshBackend")
    kinds = list(dict.fromkeys(k for k, _ in chosen))
    how = "reused from an earlier run (--keep)" if reused else "built in this run"
    lines = [
        f"## Search, {when}",
        "",
        "- Machine: " + machine(PACKAGES) + (f"; {server}" if server else ""),
        f"- Backend: `SEARCH_BACKEND={built.backend}`.",
        f"- Command: `{args.command}` (in effect: `{args.effective}`)",
        f"- Corpus: {built.pages:,} pages in {built.documents:,} documents ({PAGES_PER_DOC} pages "
        f"each) over 2 inquiries, {built.text_bytes / built.pages:,.0f} bytes of text a page "
        f"({built.text_bytes / 2**20:,.0f} MB), seed {built.seed}; {len(vocabulary.words):,} "
        f"words (Zipf exponent {ZIPF}: {vocabulary.common_count:,} common English, "
        f"{vocabulary.domain_count} inquiry words, the rest generated), 7 document types, "
        f"{len(SOURCES)} sources, dates 1970-2020, 20% OFFICIAL-SENSITIVE, 2% restricted.",
        f"- Build ({how}): database rows {built.insert_seconds:,.1f} s; index "
        f"{built.index_seconds:,.1f} s ({built.pages / built.index_seconds:,.0f} pages/s, "
        f"{how_indexed}); index size "
        f"{built.index_bytes / 2**20:,.0f} MB"
        + (f"; peak memory of the building process (VmHWM) {built.peak_mb:,.0f} MB"
           if built.peak_mb else "")
        + (f". Build target <= {build_minutes:g} minutes: "
           f"{'PASS' if build_ok else 'FAIL'}" if build_minutes else "")
        + ".",
        f"- Queries: {len(chosen)} fixed queries ({', '.join(kinds)}), each run once to warm up "
        f"then {args.repeat} times; figures over all {len(search)} measured runs.",
        "",
        "| Measure | p50 ms | p95 ms | max ms | CPU p50 ms | CPU p95 ms | Target (p95) | |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
        f"| Search call with snippets (`{backend_name}.search`, first {PER_PAGE} documents) "
        f"| {s50:,.1f} | {s95:,.1f} | {smax:,.1f} | {c50:,.1f} | {c95:,.1f} "
        f"| {sign} {search_target:.0f} | {'PASS' if search_ok else 'FAIL'} |",
        f"| Results page over HTTP (`GET /?q=`, signed in, `inquiry-docs serve`'s server) "
        f"| {p50:,.1f} | {p95:,.1f} | {pmax:,.1f} | {h50:,.1f} | {h95:,.1f} "
        f"| {sign} {page_target:.0f} | {'PASS' if page_ok else 'FAIL'} |" if pages else
        "| Results page over HTTP | - | - | - | - | - | - | not run (--no-http) |",
        "",
        "- CPU: `time.process_time` of this process over each call (every thread; for the "
        "results page that is the server thread and the client both). The verdict is on "
        "wall time; on a shared machine the CPU figures are the ones to compare.",
        "",
        f"Verdict: **{verdict}**.",
        "",
        "| Kind | Queries | search p50 ms | search max ms | page p50 ms | page max ms |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for kind in kinds:
        ks = [s for s in search if s.kind == kind]
        kp = [s for s in pages if s.kind == kind]
        lines.append(
            f"| {kind} | {len({s.query for s in ks})} | {_stats(ks)[0]:,.1f} | "
            f"{_stats(ks)[2]:,.1f} | {_stats(kp)[0]:,.1f} | {_stats(kp)[2]:,.1f} |"
        )
    slowest: dict[str, Sample] = {}
    for sample in search:
        if sample.query not in slowest or sample.ms > slowest[sample.query].ms:
            slowest[sample.query] = sample
    top = sorted(slowest.values(), key=lambda s: s.ms, reverse=True)[:5]
    lines += [
        "",
        "- Slowest search calls: "
        + "; ".join(
            f"`{s.query}` {s.ms:,.0f} ms ({s.documents:,} documents"
            f"{', ' + s.note if s.note else ''})"
            for s in top
        )
        + ".",
    ]
    broad = sorted({s.query for s in search + pages if s.note})
    if broad:
        lines.append(f"- Stopped or refused (timed all the same): {', '.join(broad)}.")
    if serving_mb:
        lines.append(
            f"- Peak memory (VmHWM) of this process over the measurements, reset after the "
            f"build: {serving_mb:,.0f} MB; it served the search calls and, in one of its "
            "threads, the results pages."
        )
    if built.backend == "whoosh":
        lines.append(
            f"- Opening a Whoosh searcher on this index takes {open_ms:,.1f} ms (median of 5); "
            "the server's request threads each keep one open and refresh it only when the "
            "index changes, so a results page pays it only on a thread's first request."
        )
    lines.append(
        f"- Load average (1 min) {load[0]:.1f} before and {load[1]:.1f} after the "
        f"measurements on {os.cpu_count()} cores"
        f"{': other work shared the machine' if max(load) > 0.5 else ''}."
    )
    if profiled:
        lines += [
            "- Profile of the slowest search call: " + profiled[0] + ":",
            *(f"  - {line}" for line in profiled[1:]),
        ]
    lines.append("")
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pages", type=int, default=TARGET_PAGES, help=f"pages to index (default {TARGET_PAGES:,})"
    )
    parser.add_argument(
        "--queries",
        type=int,
        default=len(QUERIES),
        help=f"how many of the {len(QUERIES)} fixed queries (default all)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="measured runs per query")
    parser.add_argument("--seed", type=int, default=1, help="text generator seed (default 1)")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="Markdown file the section is appended to",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--no-http", action="store_true", help="skip the results-page part")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the slowest query even if the targets are met",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="build into DIR and keep it; reuse it when it holds the same corpus",
    )
    parser.add_argument("--backend", choices=tuple(TARGETS), default="whoosh",
                        help="search backend to measure (default whoosh)")
    parser.add_argument("--database-url", metavar="URL",
                        help="PostgreSQL database for --backend postgres (default: a "
                        "throwaway cluster); its contents are replaced on a new build")
    parser.add_argument("--index-batch", type=int, metavar="N",
                        help="documents per Whoosh commit while building (default: the "
                        "app's INDEX_BATCH, as the index job commits); one commit of every "
                        "document leaves one segment and no merges on the way")
    parser.add_argument("--pg-index", choices=("gin", "rum"),
                        help="text index kind for --backend postgres (default: RUM when the "
                        "rum extension is installed, else GIN)")
    args = parser.parse_args(argv)
    if args.pages < 1 or args.queries < 1 or args.repeat < 1 or \
            (args.index_batch is not None and args.index_batch < 1):
        parser.error("--pages, --queries, --repeat and --index-batch must be at least 1")
    if args.backend == "postgres" and args.keep and not args.database_url:
        parser.error("--keep with --backend postgres needs --database-url (a throwaway "
                     "cluster is deleted at the end of the run)")
    args.command = shlex.join(["python", "bench/search.py", *(argv or sys.argv[1:])])
    args.effective = (
        f"--pages {args.pages} --queries {min(args.queries, len(QUERIES))} "
        f"--repeat {args.repeat} --seed {args.seed} --backend {args.backend}"
        + (f" --index-batch {args.index_batch}" if args.index_batch else "")
    )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.backend == "postgres":
        with search_pg.database(args.database_url) as url:
            return run(args, url)
    return run(args, None)


def run(args: argparse.Namespace, database_url: str | None) -> int:
    base = args.keep or Path(tempfile.mkdtemp(prefix="inquiry-docs-search-bench-"))
    manifest = base / "bench.json"
    app = None
    try:
        vocabulary = Vocabulary(args.seed)
        built = None
        if manifest.exists():
            saved = Build(**json.loads(manifest.read_text()))
            if (saved.pages, saved.seed, saved.format, saved.backend, saved.index_batch) == \
                    (args.pages, args.seed, FORMAT, args.backend, args.index_batch):
                built = saved
                print(f"Reusing the index in {base}", file=sys.stderr)
        if built is None:
            if base.exists() and any(base.iterdir()):
                shutil.rmtree(base)
            base.mkdir(parents=True, exist_ok=True)
            if database_url and args.database_url:
                search_pg.reset(database_url)
            app = make_app(base, database_url, args.backend)
            built = build(app, base, args.pages, args.seed, vocabulary, args.pg_index,
                          args.index_batch)
            manifest.write_text(json.dumps(built.__dict__))
            reused = False
        else:
            app = make_app(base, database_url, args.backend)
            reused = True
        chosen = queries(args.queries, vocabulary)
        load_before = os.getloadavg()[0]
        reset_peak_rss()
        search = measure_search(app, chosen, args.repeat)
        s95 = _stats(search)[1]
        print(f"Search call: p95 {s95:.1f} ms (CPU p95 {_stats(search, cpu=True)[1]:.1f} ms)",
              file=sys.stderr)
        pages = [] if args.no_http else measure_pages(app, chosen, args.repeat)
        if pages:
            print(f"Results page: p95 {_stats(pages)[1]:.1f} ms "
                  f"(CPU p95 {_stats(pages, cpu=True)[1]:.1f} ms)", file=sys.stderr)
        load = (load_before, os.getloadavg()[0])
        serving_mb = peak_rss_self() / 2**20
        open_ms = searcher_open_ms(app)
        profiled: list[str] = []
        if (
            args.profile
            or s95 >= targets(args.backend, args.pages)[0]
            or (pages and _stats(pages)[1] >= targets(args.backend, args.pages)[1])
        ):
            worst = max(search, key=lambda s: s.ms)
            profiled = profile(app, worst.query)
        server = search_pg.describe(app) if database_url else ""
        section = render(
            args, built, reused, vocabulary, chosen, search, pages, open_ms, profiled, load,
            server, serving_mb
        )
        print(section)
        if not args.no_write:
            append(args.out, section)
            print(f"Appended to {args.out}", file=sys.stderr)
        return 0
    finally:
        if app is not None:
            with app.app_context():
                from inquiry_docs.db import db

                db.engine.dispose()  # before a throwaway cluster stops
        if args.keep:
            print(f"Kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
