"""The carrier's tables: org tree, terms, accounts, sessions and tokens, coverage, audit, jobs."""

from elearn.models.accounts import (
    ApiToken,
    GuardianLink,
    Role,
    RoleAssignment,
    User,
    UserSession,
)
from elearn.models.audit import AuditEvent
from elearn.models.coverage import (
    CoverageFact,
    CoverageRollup,
    CoverageWeekly,
    FactKind,
    UnitPopulation,
)
from elearn.models.jobs import Job, JobStatus
from elearn.models.notifications import (
    Notification,
    NotificationDelivery,
    NotificationPreference,
    PushSubscription,
)
from elearn.models.org import SchoolKind, Term, Unit, UnitType
from elearn.models.slips import AccountSlip

__all__ = [
    "AccountSlip",
    "ApiToken",
    "AuditEvent",
    "CoverageFact",
    "CoverageRollup",
    "CoverageWeekly",
    "FactKind",
    "GuardianLink",
    "Job",
    "JobStatus",
    "Notification",
    "NotificationDelivery",
    "NotificationPreference",
    "PushSubscription",
    "Role",
    "RoleAssignment",
    "SchoolKind",
    "Term",
    "Unit",
    "UnitPopulation",
    "UnitType",
    "User",
    "UserSession",
]
