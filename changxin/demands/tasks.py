"""The demand engine's background jobs (see changxin/core/jobs.py)."""

from changxin.core import jobs
from changxin.demands import services


@jobs.periodic(minute="*")
def escalate_overdue() -> dict:
    """督办 the demands that missed a deadline since the last run (idempotent)."""
    return {"supervised": services.escalate_overdue()}
