"""Recommendation sets: the IICSA final report's 20 loaded by `init`, others imported from
CSV or JSON, edited by admins. Domain code only (no Flask request objects); every write is
audited in the same transaction.

Submodules: links (evidence links, indexed), suggestions, tracking (response, RAG, trail,
notes), coverage (dashboard counts and matrix), dossier (DOCX and CSV).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..access import audit
from ..db import db
from ..models import DEFAULT_SET, Recommendation, RecommendationSet, User

IICSA_NAME = "IICSA final report: concluding recommendations (October 2022)"
# Number, short title, report part, addressed to: our own words; the official text is
# left empty and can be filled by importing it.
IICSA_FINAL: list[tuple[str, str, str, str]] = [
    ("1", "Core data set on child sexual abuse and exploitation", "Part B",
     "UK and Welsh governments"),
    ("2", "Child Protection Authorities for England and for Wales", "Part C",
     "UK and Welsh governments"),
    ("3", "A cabinet-level Minister for Children", "Part C", "UK government; Welsh Government"),
    ("4", "Public awareness campaigns", "Part C", "UK and Welsh governments"),
    ("5", "Ban on pain compliance techniques in custody", "Part D", "UK government"),
    ("6", "Children Act 1989 amendment for children in care", "Part D", "UK government"),
    ("7", "Registration of care staff in children's homes", "Part E", "UK government"),
    ("8", "Registration of care staff in young offender institutions and secure training "
     "centres", "Part E", "UK government"),
    ("9", "Wider use of barred-list checks", "Part E", "UK government"),
    ("10", "Compliance with duties to refer to the Disclosure and Barring Service", "Part E",
     "UK government"),
    ("11", "Disclosure checks for those working with children overseas", "Part E",
     "UK government"),
    ("12", "Pre-screening of uploads for known child sexual abuse images", "Part F",
     "UK government"),
    ("13", "Mandatory reporting of child sexual abuse", "Part F", "UK and Welsh governments"),
    ("14", "Compliance with the Victims' Code", "Part G", "UK government"),
    ("15", "Removing the three-year limitation period for civil claims", "Part G",
     "UK government"),
    ("16", "Specialist therapeutic support for child victims", "Part H",
     "UK and Welsh governments"),
    ("17", "Access to records about child sexual abuse", "Part H", "UK government"),
    ("18", "Changes to the Criminal Injuries Compensation Scheme", "Part I", "UK government"),
    ("19", "A single national redress scheme", "Part I", "UK and Welsh governments"),
    ("20", "Stronger age verification online", "Part J", "UK government"),
]

CODE = re.compile(r"^[a-z][a-z0-9]{1,19}$")
NUMBER = re.compile(r"^[A-Za-z0-9.]{1,20}$")
FIELDS = ("number", "title", "part", "addressee", "text", "keywords")
LIMITS = {"number": 20, "title": 300, "part": 50, "addressee": 300, "text": 20_000,
          "keywords": 2_000}
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 1000


def ref(rec: Recommendation) -> str:
    """How a recommendation is named in search (`rec:13`)."""
    return rec.ref


def label(rec: Recommendation) -> str:
    return f"{rec.number}. {rec.title}"


def ensure_default_set() -> RecommendationSet:
    """Load the IICSA final report's 20 recommendations once (called by `init`)."""
    existing = db.session.execute(
        select(RecommendationSet).where(RecommendationSet.code == DEFAULT_SET)).scalar()
    if existing is not None:
        return existing
    rset = RecommendationSet(code=DEFAULT_SET, name=IICSA_NAME, inquiry_id=None,
                             description="The 20 concluding recommendations of the "
                             "Independent Inquiry into Child Sexual Abuse.")
    db.session.add(rset)
    db.session.flush()
    for position, (number, title, part, addressee) in enumerate(IICSA_FINAL, start=1):
        db.session.add(Recommendation(set_id=rset.id, number=number, position=position,
                                      title=title, part=part, addressee=addressee))
    audit.record("recommendation_set_loaded", object_type="recommendation_set",
                 object_id=rset.id, code=DEFAULT_SET, recommendations=len(IICSA_FINAL))
    db.session.commit()
    return rset


def by_ref(value: str) -> Recommendation | None:
    """The recommendation search calls `value` (as `ref` gives it)."""
    value = value.strip().lower()
    code, _, number = value.rpartition("-")
    code = code or DEFAULT_SET
    return db.session.execute(
        select(Recommendation).join(RecommendationSet)
        .where(RecommendationSet.code == code, func.lower(Recommendation.number) == number)
    ).scalar()


# --- import ---------------------------------------------------------------------------


@dataclass
class Imported:
    rows: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_import(data: bytes, filename: str) -> Imported:
    """Rows from a CSV (header: number,title[,part,addressee,text,keywords]) or JSON file
    (a list of such objects, or {"recommendations": [...]})."""
    out = Imported()
    if len(data) > MAX_IMPORT_BYTES:
        out.errors.append("The file is larger than 2 MB")
        return out
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        out.errors.append("The file must be UTF-8 text")
        return out
    try:
        raw = _json_rows(text) if filename.lower().endswith(".json") else _csv_rows(text)
    except ValueError as error:
        out.errors.append(str(error))
        return out
    if len(raw) > MAX_IMPORT_ROWS:
        out.errors.append(f"A set may have up to {MAX_IMPORT_ROWS} recommendations")
        return out
    for line, item in enumerate(raw, start=1):
        row = {k: " ".join(str(item.get(k) or "").split()) if k != "text"
               else str(item.get(k) or "").strip() for k in FIELDS if k in item}
        problem = _row_problem(row)
        if problem:
            out.errors.append(f"Recommendation {line}: {problem}")
        else:
            out.rows.append(row)
    if not raw:
        out.errors.append("The file has no recommendations")
    return out


def _csv_rows(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    names = [n.strip().lower() for n in reader.fieldnames or []]
    if "number" not in names or "title" not in names:
        raise ValueError("The CSV file needs a header row with number and title columns")
    reader.fieldnames = names
    return [{k: v for k, v in row.items() if k in FIELDS} for row in reader]


def _json_rows(text: str) -> list[dict]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("The JSON file could not be read") from None
    if isinstance(value, dict):
        value = value.get("recommendations")
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError("The JSON file must hold a list of recommendations")
    return value


def _row_problem(row: dict[str, str]) -> str:
    if not NUMBER.match(row.get("number", "")):
        return "enter a number of up to 20 letters, digits or dots"
    if not row.get("title") and "title" in row:
        return "enter a title"
    for name, limit in LIMITS.items():
        if len(row.get(name, "")) > limit:
            return f"the {name} is longer than {limit} characters"
    return ""


def import_rows(rset: RecommendationSet, rows: list[dict[str, str]], user: User
                ) -> tuple[int, int]:
    """Add new numbers, update the fields given for existing ones; (added, updated)."""
    existing = {r.number.lower(): r for r in rset.recommendations}
    position = max((r.position for r in rset.recommendations), default=0)
    added = updated = 0
    for row in rows:
        rec = existing.get(row["number"].lower())
        if rec is None:
            position += 1
            rec = Recommendation(set_id=rset.id, number=row["number"], position=position,
                                 title=row.get("title") or row["number"])
            db.session.add(rec)
            existing[row["number"].lower()] = rec
            added += 1
        elif any(v and getattr(rec, k) != v for k, v in row.items() if k != "number"):
            updated += 1
        for name in FIELDS[1:]:
            if row.get(name):  # an empty cell leaves what is there (e.g. our own titles)
                setattr(rec, name, row[name])
    audit.record("recommendations_imported", user=user, object_type="recommendation_set",
                 object_id=rset.id, inquiry_id=rset.inquiry_id, code=rset.code,
                 added=added, updated=updated)
    db.session.commit()
    return added, updated


def validate_set(code: str, name: str, *, new: bool) -> dict[str, str]:
    errors = {}
    if new:
        if not CODE.match(code):
            errors["code"] = ("Enter a code of 2 to 20 lower-case letters and digits, "
                              "starting with a letter, like gbe2025")
        elif db.session.execute(select(RecommendationSet.id)
                                .where(RecommendationSet.code == code)).first():
            errors["code"] = f"A set with code {code} already exists"
    if not name.strip() or len(name) > 300:
        errors["name"] = "Enter a name of up to 300 characters"
    return errors


def create_set(code: str, name: str, inquiry_id: int | None, user: User,
               description: str = "") -> RecommendationSet:
    rset = RecommendationSet(code=code, name=name.strip(), inquiry_id=inquiry_id,
                             description=description.strip())
    db.session.add(rset)
    db.session.flush()
    audit.record("recommendation_set_created", user=user, object_type="recommendation_set",
                 object_id=rset.id, inquiry_id=inquiry_id, code=code, name=rset.name)
    return rset


def update_set(rset: RecommendationSet, name: str, description: str,
               inquiry_id: int | None, user: User) -> dict[str, list]:
    """Change a set's name, description or owning inquiry; audited with before/after."""
    after = {"name": name.strip(), "description": description.strip(),
             "inquiry_id": inquiry_id}
    diff = {k: [getattr(rset, k), v] for k, v in after.items() if getattr(rset, k) != v}
    for key, (_, value) in diff.items():
        setattr(rset, key, value)
    if diff:
        audit.record("recommendation_set_changed", user=user, object_type="recommendation_set",
                     object_id=rset.id, inquiry_id=rset.inquiry_id, changes=diff)
    db.session.commit()
    return diff


def update_recommendation(rec: Recommendation, values: dict[str, str], user: User
                          ) -> dict[str, list]:
    """Admin edit of the wording fields; audited with before/after."""
    diff = {k: [getattr(rec, k), v] for k, v in values.items()
            if k in FIELDS[1:] and getattr(rec, k) != v}
    for key, (_, value) in diff.items():
        setattr(rec, key, value)
    if diff:
        audit.record("recommendation_changed", user=user, object_type="recommendation",
                     object_id=rec.id, inquiry_id=rec.set.inquiry_id, ref=ref(rec),
                     changes=diff)
    db.session.commit()
    return diff


def validate_recommendation(values: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not values.get("title", "").strip():
        errors["title"] = "Enter a title"
    for name, limit in LIMITS.items():
        if len(values.get(name, "")) > limit:
            errors[name] = f"Enter up to {limit} characters"
    return errors


def keywords_of(rec: Recommendation) -> list[str]:
    return [k.strip() for k in rec.keywords.split(",") if k.strip()]
