"""The states the ledger stores, defined once.

They are ``StrEnum``s: a member is equal to its string and is stored as that string, so rows written
before (plain strings) and callers that still compare with literals keep working.
"""

from __future__ import annotations

from enum import StrEnum


class DocumentState(StrEnum):
    """``order_documents.state``: where one OfficeGuy document an order needs stands."""

    PENDING = "pending"  # planned, not tried yet
    CLAIMED = "claimed"  # a run holds it for its OfficeGuy call (a lease)
    DOCUMENTED = "documented"  # our own document exists in OfficeGuy
    FAILED = "failed"  # a try failed; a later run retries it (looking it up first)
    PARKED = "parked"  # cannot succeed as it is, or failed too often: a person looks
    RECORDED = "recorded"  # the official plugin made the document; we only record it
    SKIPPED = "skipped"  # not needed any more (e.g. cancelled before it was documented)


class CardState(StrEnum):
    """``item_map.state``: the claim to create an OfficeGuy item card for a Woo product."""

    MAPPED = "mapped"  # the card is known (og_item_id set)
    CLAIMED = "claimed"  # a run is creating it (a lease)
    FAILED = "failed"  # the creation failed; a later run may claim it again


class RunStatus(StrEnum):
    """``sync_runs.status``: the ledger writes ``running``; the DAGs' report steps the outcome."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BLOCKED = "blocked"  # the stock run's brake stopped it
    DRY_RUN = "dry_run"


OPEN_STATES = (DocumentState.PENDING, DocumentState.FAILED)  # may be claimed
DONE_STATES = (DocumentState.DOCUMENTED, DocumentState.RECORDED, DocumentState.SKIPPED)
OUTSTANDING_STATES = (DocumentState.PENDING, DocumentState.CLAIMED, DocumentState.FAILED,
                      DocumentState.PARKED)  # the document is still owed (all but the done states)
