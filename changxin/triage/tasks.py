"""Triage's background jobs."""

from __future__ import annotations

from changxin.core import jobs


@jobs.periodic(minute="*/10")
def maintain_duplicate_index() -> dict:
    """Keep the duplicate check's index to recent open demands (triage/duplicates.py)."""
    from changxin.triage.duplicates import maintain_index

    return maintain_index()
