"""Privacy: PII redaction for what supervisors read, customer erasure and retention purge.

``redaction`` is pure (no database); ``erase`` deletes across the transcript, handoff and
Rasa tracker tables; ``cli`` is ``helpline privacy ...``. See docs/privacy.md.
"""
