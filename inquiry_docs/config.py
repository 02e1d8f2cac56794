"""Settings: one table of (name, default, help), read from INQUIRY_DOCS_* variables.

The README's settings table is generated from SETTINGS and a test checks they agree.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "INQUIRY_DOCS_"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting("INSTANCE_DIR", "instance/", "Folder for the SQLite database, queue, secret key and "
            "other per-installation state."),
    Setting("DATABASE_URL", "sqlite:///<INSTANCE_DIR>/inquiry_docs.db",
            "SQLAlchemy database URL: SQLite by default, `postgresql+psycopg://...` at scale."),
    Setting("UPLOAD_DIR", "uploads/", "Where originals are stored, write-once, by SHA-256."),
    Setting("INDEX_DIR", "indexes/", "Where the embedded search index lives (derived data): "
            "Whoosh's files, and tantivy's in its `tantivy` subfolder."),
    Setting("SEARCH_BACKEND", "whoosh", "`whoosh`: the embedded Whoosh index in INDEX_DIR; "
            "`tantivy`: the embedded tantivy index in INDEX_DIR/tantivy; `postgres`: "
            "PostgreSQL full-text search in the database itself, written with the pages (needs "
            "a `postgresql+psycopg://` DATABASE_URL; run `inquiry-docs reindex` after "
            "switching)."),
    Setting("PG_TEXT_INDEX", "gin", "PostgreSQL search only: the kind of text index, `gin` "
            "(about 0.1 ms of server time a page written) or `rum` (ranks inside the index, "
            "quicker for very common words at a million pages, about 5 ms a page written; "
            "needs the rum extension). `init` and `reindex` build the kind named here."),
    Setting("SECRET_KEY", "<INSTANCE_DIR>/secret_key (generated)",
            "Signs sessions and CSRF tokens. Generated and kept when unset."),
    Setting("AUDIT_KEY", "<INSTANCE_DIR>/audit_key (generated)",
            "Keys the audit trail's hash chain. Keep a copy apart from database backups: "
            "without it the chain cannot be verified."),
    Setting("ANCHOR_KEY", "<INSTANCE_DIR>/anchor_key (generated)",
            "The Ed25519 private key (64 hexadecimal characters) that signs audit anchors. "
            "Keep a copy apart from database backups; give verifiers the public key "
            "(`inquiry-docs audit anchor --public-key`)."),
    Setting("ANCHOR_DIR", "", "A folder each audit anchor is written to as a new file, never "
            "overwritten (another disk, a WORM mount); empty for none."),
    Setting("ANCHOR_EMAIL", "", "Addresses (comma-separated) each audit anchor is emailed to, "
            "through SMTP_HOST; empty for none."),
    Setting("ANCHOR_URL", "", "An `https://` (or `http://`) address each audit anchor is "
            "POSTed to as JSON; empty for none."),
    Setting("ANCHOR_URL_TOKEN", "", "Sent to ANCHOR_URL as `Authorization: Bearer <token>` "
            "when set."),
    Setting("ANCHOR_HOURS", 24, "Hours between the anchors the server makes on its own "
            "(0: only on demand). A failed anchor is tried again after an hour.", int),
    Setting("SMTP_HOST", "", "Mail server for sending email (audit anchors); empty: no email."),
    Setting("SMTP_PORT", 587, "The mail server's port.", int),
    Setting("SMTP_TLS", "starttls", "`starttls` (required), `ssl` (TLS from the start, "
            "usually port 465) or `none` (a relay on this machine or network only)."),
    Setting("SMTP_USER", "", "User name for the mail server; empty to send without signing in."),
    Setting("SMTP_PASSWORD", "", "Password for SMTP_USER."),
    Setting("MAIL_FROM", "inquiry-docs@localhost", "The From address of email the service "
            "sends."),
    Setting("SECRETS_KEY", "<INSTANCE_DIR>/secrets_key (generated)",
            "Encrypts two-factor secrets in the database: 64 hexadecimal characters, or several "
            "keys comma-separated (the first encrypts, any decrypts). Never stored in the "
            "database; back it up apart from it. `inquiry-docs secrets rotate` changes it."),
    Setting("MAX_UPLOAD_MB", 200, "Largest accepted file, in megabytes; larger uploads are refused "
            "before storage.", int),
    Setting("QUEUE_URL", "<a SQLite file beside the database>",
            "Job queue: a Huey SQLite file by default (`redis://...` at scale). Unset, it "
            "belongs to this installation's database: `queue.db` beside the default database, "
            "`<name>.queue.db` beside another SQLite file, `<INSTANCE_DIR>/queue-<digest of "
            "the URL>.db` for PostgreSQL, so two installations never share one."),
    Setting("WORKERS_IN_SERVER", 2, "Job consumer threads started inside `serve` (inside each "
            "web process with `--workers N`); 0 to rely on separate `inquiry-docs worker` "
            "processes.", int),
    Setting("STUCK_MINUTES", 30, "Minutes after which `check` reports a document left "
            "`extracting` (or `received` with no reading task queued) as unfinished, and "
            "`check --repair` queues it to be read again.", int),
    Setting("EXTRACT_TIMEOUT", 120, "CPU seconds a parser may use on one file before it is "
            "stopped and the file marked failed.", int),
    Setting("EXTRACT_MEMORY_MB", 1024, "Address-space limit, in megabytes, for the parser's child "
            "process.", int),
    Setting("WEB_THREADS", 8, "Threads answering web requests in `serve` (in each web process "
            "with `--workers N`); each keeps its own index searcher open.", int),
    Setting("INDEX_BATCH", 200, "Documents written to the index per commit.", int),
    Setting("INDEX_MEMORY_MB", 256, "Memory the index writer may use for a batch before it "
            "spills sorted runs to disk (more is faster).", int),
    Setting("INDEX_MIN_PAGES", 400, "While other documents are still being extracted, "
            "pages an index run waits for so they share one commit.", int),
    Setting("INDEX_DELAY", 10.0, "Longest time in seconds a newly extracted document waits "
            "for others to share its index commit.", float),
    Setting("SEARCH_TIME_LIMIT", 5.0, "Seconds a search may run before it is stopped as too "
            "broad.", float),
    Setting("INDEX_LOCK_TIMEOUT", 30, "Seconds an index job waits for the index lock before it "
            "retries.", int),
    Setting("OCR", "auto", "`auto`: read pages without a text layer, and scanned images, with "
            "Tesseract in the job queue; `off`: leave them as no text (run `inquiry-docs ocr` "
            "later)."),
    Setting("TESSERACT_CMD", "tesseract", "The Tesseract program (a name on PATH or a full "
            "path); when it is missing, scans stay without text, marked \"OCR not available\"."),
    Setting("OCR_CHUNK_PAGES", 10, "Pages read per OCR child process; progress is saved after "
            "each chunk.", int),
    Setting("PDF_TEXT", "pdfium", "Text layer reader for PDFs: `pdfium` (fast) or `pypdf`; "
            "the other one is the fallback when the first fails or finds no text."),
    Setting("ZIP_MAX_UNCOMPRESSED_MB", 200, "Largest total uncompressed size accepted inside a "
            "DOCX.", int),
    Setting("ZIP_MAX_RATIO", 100, "Highest compression ratio accepted for the XML parts of a "
            "Word file (embedded objects count only towards the total).", int),
    Setting("ZIP_MAX_ENTRIES", 10000, "Most entries accepted inside a DOCX.", int),
    Setting("TRUSTED_PROXIES", 0, "How many reverse proxies in front of the app to trust for "
            "the client address and https (X-Forwarded-For/-Proto). 0 when serving directly.",
            int),
    Setting("SESSION_IDLE_MINUTES", 30, "Minutes without activity after which a session ends.",
            int),
    Setting("SIGNIN_LIMIT", "5 per 15 minutes", "Failed sign-ins allowed per account and per "
            "IP address before further attempts are refused for a while."),
    Setting("MIN_FREE_DISK_MB", 1024, "Free space, in megabytes, below which `/healthz` reports "
            "the disk holding the database, originals or index as down (503).", int),
    Setting("ORGANISATION_NAME", "", "Who runs this service (the inquiry's name), shown in "
            "the accessibility statement and the privacy notice."),
    Setting("CONTACT_EMAIL", "", "Where people report accessibility problems and ask about "
            "their data, shown on those pages."),
    Setting("DPO_EMAIL", "", "The data protection officer's email for the privacy notice "
            "(CONTACT_EMAIL when empty)."),
    Setting("PRIVACY_LAWFUL_BASIS", "", "The privacy notice's lawful basis for processing "
            "personal data, as the inquiry states it (text; blank paragraphs split it)."),
    Setting("PRIVACY_RETENTION", "", "The privacy notice's text on how long accounts, the audit "
            "trail and the evidence are kept, as the inquiry decides it."),
    Setting("ACCESSIBILITY_REVIEWED", "", "The date the accessibility statement was last "
            "reviewed by the organisation (for example 27 March 2026)."),
    Setting("RATELIMIT_STORAGE_URL", "<QUEUE_URL> if redis://, else memory://",
            "Where sign-in and API throttling counts are kept: `memory://` for one process, "
            "`redis://...` when several processes serve. Unset, a `redis://` QUEUE_URL is used, "
            "so every process counts together."),
)


# Keys kept outside the database: the setting, else a file generated in INSTANCE_DIR.
KEY_FILES = {"SECRET_KEY": "secret_key", "AUDIT_KEY": "audit_key",
             "ANCHOR_KEY": "anchor_key", "SECRETS_KEY": "secrets_key"}
KEY_FILES_NAMES = tuple(KEY_FILES)


def _instance_dir(env: dict[str, str]) -> Path:
    raw = env.get(PREFIX + "INSTANCE_DIR", "instance")
    path = Path(raw)
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def _resolve(path: str) -> str:
    p = Path(path)
    return str(p if p.is_absolute() else (PROJECT_ROOT / p))


def _kept_key(instance: Path, name: str) -> str:
    """Keep one generated key per installation so it survives restarts."""
    key_file = instance / name
    if key_file.exists():
        return key_file.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
        fh.flush()
        # On disk before anything is encrypted or signed with it.
        os.fsync(fh.fileno())
    _fsync_dir(instance)
    return key


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load(env: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from the environment."""
    env = dict(os.environ if env is None else env)
    instance = _instance_dir(env)
    values: dict[str, Any] = {"INSTANCE_DIR": str(instance)}
    for setting in SETTINGS:
        if setting.name in ("INSTANCE_DIR", *KEY_FILES_NAMES):
            continue
        raw = env.get(PREFIX + setting.name)
        values[setting.name] = setting.kind(raw) if raw not in (None, "") else setting.default
    if values["DATABASE_URL"] == SETTINGS_BY_NAME["DATABASE_URL"].default:
        values["DATABASE_URL"] = f"sqlite:///{instance / 'inquiry_docs.db'}"
    if values["QUEUE_URL"] == SETTINGS_BY_NAME["QUEUE_URL"].default:
        values["QUEUE_URL"] = ""  # chosen with the database in finalise()
    if values["RATELIMIT_STORAGE_URL"] == SETTINGS_BY_NAME["RATELIMIT_STORAGE_URL"].default:
        values["RATELIMIT_STORAGE_URL"] = ""  # chosen with QUEUE_URL: see ratelimit_storage
    values["UPLOAD_DIR"] = _resolve(values["UPLOAD_DIR"])
    values["INDEX_DIR"] = _resolve(values["INDEX_DIR"])
    for name in KEY_FILES_NAMES:
        values[name] = env.get(PREFIX + name) or None
    return values


def finalise(config: dict[str, Any]) -> None:
    """Fill values that need the filesystem, after tests had their say."""
    if not config.get("QUEUE_URL"):
        config["QUEUE_URL"] = default_queue_url(str(config["DATABASE_URL"]),
                                                Path(config["INSTANCE_DIR"]))
    for name, file in KEY_FILES.items():
        if not config.get(name):
            config[name] = _kept_key(Path(config["INSTANCE_DIR"]), file)
            # Where the key lives, for commands that change it (`secrets rotate`).
            config[name + "_FILE"] = str(Path(config["INSTANCE_DIR"]) / file)


SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


def default_queue_url(database_url: str, instance: Path) -> str:
    """The Huey SQLite file of the installation whose database this is.

    A queue shared by two installations lets one's workers take the other's jobs, whose
    documents then wait for ever; so the file follows the database, not the checkout.
    """
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and database_url != prefix:
        database = Path(database_url.removeprefix(prefix))
        if database == instance / "inquiry_docs.db":
            return f"{prefix}{instance / 'queue.db'}"  # the name installations always had
        return f"{prefix}{database.with_name(database.stem + '.queue.db')}"
    # A server database: the URL (without any password) names the installation.
    safe = make_url_safe(database_url)
    digest = hashlib.sha256(safe.encode()).hexdigest()[:16]
    return f"{prefix}{instance / f'queue-{digest}.db'}"


def make_url_safe(url: str) -> str:
    """The URL without its password."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    return url.replace(f":{parsed.password}@", "@", 1)


def ratelimit_storage(config: Mapping[str, Any]) -> str:
    """Where throttling counts live: the setting, else the queue's Redis, else this process.

    Counts kept in one process's memory would let each of several web processes allow
    the full number of attempts, so a Redis that the processes share anyway is used.
    """
    explicit = config.get("RATELIMIT_STORAGE_URL")
    if explicit:
        return explicit
    queue = config.get("QUEUE_URL") or ""
    if urlparse(queue).scheme in ("redis", "rediss"):
        return queue
    return "memory://"


def settings_table() -> str:
    """The Markdown table for the README."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for s in SETTINGS:
        lines.append(f"| `{PREFIX}{s.name}` | `{s.default}` | {s.help} |")
    return "\n".join(lines)
