"""Database tables, split by area; the database is the source of truth and the index is
derived from it. Every table is importable from here (`from ..models import Document`)."""

from .accounts import ROLES, ApiToken, AuditEvent, Inquiry, Membership, User, UserSession
from .base import utcnow
from .disclosure import (
    APPROVED,
    PROPOSED,
    REDACTION_CODES,
    REDACTION_KINDS,
    REDACTION_STATUS,
    Citation,
    Production,
    Redaction,
)
from .documents import (
    DOC_TYPES,
    MARKINGS,
    STATUS_LABELS,
    Batch,
    BatchItem,
    Document,
    Page,
    Receipt,
    Status,
)
from .recommendations import (
    DEFAULT_SET,
    RAG,
    RESPONSES,
    STANCES,
    EvidenceLink,
    Recommendation,
    RecommendationNote,
    RecommendationSet,
    RejectedSuggestion,
    TrailEvent,
)
from .review import (
    PRIVILEGE,
    REDACTION_REASONS,
    RELEVANCE,
    REVIEW_STATUS,
    TAG_COLOURS,
    Bundle,
    Coding,
    DocumentTag,
    Note,
    NoteRevision,
    Tag,
)
from .searches import BatchSearch, BatchSearchLine, SavedSearch, SavedSearchRun

__all__ = [
    "APPROVED", "PROPOSED", "REDACTION_CODES", "REDACTION_KINDS", "REDACTION_STATUS",
    "Citation", "Production", "Redaction",
    "DEFAULT_SET", "DOC_TYPES", "MARKINGS", "PRIVILEGE", "RAG", "REDACTION_REASONS",
    "RELEVANCE", "RESPONSES", "REVIEW_STATUS", "ROLES", "STANCES", "STATUS_LABELS",
    "TAG_COLOURS", "ApiToken", "AuditEvent", "Batch", "BatchItem", "BatchSearch",
    "BatchSearchLine", "Bundle", "Coding", "Document", "DocumentTag", "EvidenceLink",
    "Inquiry", "Membership", "Note", "NoteRevision", "Page", "Receipt", "Recommendation",
    "RecommendationNote", "RecommendationSet", "RejectedSuggestion", "SavedSearch",
    "SavedSearchRun", "Status", "Tag", "TrailEvent", "User", "UserSession", "utcnow",
]
