"""Reading the audit trail back, for tests that check what an action recorded."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from wheelyard.data.audit import AuditEvent


def audit_actions(db: Session) -> list[str]:
    """The action of every audit row, oldest first."""
    return list(db.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
