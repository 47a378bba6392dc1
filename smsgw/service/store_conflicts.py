"""Conflicts the store reports: a write refused because of what is already stored.

They are part of the `Tx` port (ports.py): the store says only what it found, and the
service, which knows who is asking and in which words, turns a conflict into the
subscriber's refusal (a `DomainError` with its reply facts).
"""

from __future__ import annotations


class StoreConflictError(Exception):
    """A write the stored data does not allow; the unit of work is still usable."""


class ActivePlateConflictError(StoreConflictError):
    """The plate already has another ACTIVE session (one active session per plate)."""

    def __init__(self, plate: str) -> None:
        super().__init__(f"plate {plate} already has an active session")
        self.plate = plate


class PendingChargeConflictError(StoreConflictError):
    """The phone already has a charge waiting for an answer (one pending per phone)."""

    def __init__(self, phone: str) -> None:
        super().__init__("the phone already has a pending charge")
        self.phone = phone
