"""Helpline FAQ knowledge base: validated FAQ sources, a versioned vector index and an answer
policy that knows when it does not know.

Importing this package loads no model and touches no index; see KnowledgeBase.open.
"""

from .builder import BuildConfig, build_index
from .encoder import DEFAULT_MODEL, ModelNotAvailableError
from .escalation import EscalationPolicy
from .facade import KnowledgeBase, KnowledgeBaseUnavailable
from .manifest import Manifest
from .policy import Thresholds
from .records import Candidate, Decision, FaqEntry
from .validation import FaqValidationError

__all__ = [
    "DEFAULT_MODEL",
    "BuildConfig",
    "Candidate",
    "Decision",
    "EscalationPolicy",
    "FaqEntry",
    "FaqValidationError",
    "KnowledgeBase",
    "KnowledgeBaseUnavailable",
    "Manifest",
    "ModelNotAvailableError",
    "Thresholds",
    "build_index",
]
