"""Knowledge base (知识库): question-answer entries agents search while the caller waits."""

from knowledge.entries import InvalidEntry, KnowledgeEntry, entry_problems, is_active, validate_entry
from knowledge.importer import ImportErrors, parse_csv, parse_json
from knowledge.index import Hit, KnowledgeIndex

__all__ = [
    "Hit",
    "ImportErrors",
    "InvalidEntry",
    "KnowledgeEntry",
    "KnowledgeIndex",
    "entry_problems",
    "is_active",
    "parse_csv",
    "parse_json",
    "validate_entry",
]
