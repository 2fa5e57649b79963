"""PostgreSQL with the audit chain written at commit.

Django's own backend, plus one thing: audit entries recorded inside a transaction are
chained and inserted just before it commits (``tongban.platform.audit.pending``), so the
audit head row — which every write of the platform must lock — is held for a few
milliseconds at the end of a transaction instead of from its first audit entry onwards.
Selected automatically by ``settings.py`` for ``postgres://`` database URLs.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base

from tongban.platform.audit import pending


class DatabaseWrapper(base.DatabaseWrapper):
    supports_audit_at_commit = True

    def commit(self) -> None:
        pending.flush(self)
        super().commit()

    def rollback(self) -> None:
        pending.discard(self)
        super().rollback()

    def savepoint_commit(self, sid: Any) -> None:
        pending.block_released(self)
        super().savepoint_commit(sid)

    def savepoint_rollback(self, sid: Any) -> None:
        super().savepoint_rollback(sid)
        pending.block_rolled_back(self)

    def close(self) -> None:
        pending.discard(self)
        super().close()
