"""Typed storage failures, each naming the reply a subscriber would hear.

A unit of work that fails for a storage reason (database locked, unreachable, the store
closing) cannot be answered with anything but "try again later"; the SMPP layer answers
the SMSC with a temporary error (ESME_RX_T_APPN) so the message comes back.
"""

from __future__ import annotations

from typing import ClassVar


class StorageError(Exception):
    """Anything the storage layer refuses or cannot do."""

    reply_key: ClassVar[str] = "error.temporary"


class StoreUnavailableError(StorageError):
    """The database could not be reached, was locked too long, or failed an I/O: retry."""


class StoreClosedError(StorageError):
    """A unit of work handed to a store that is closing or closed."""


class UnknownRowError(StorageError):
    """An update by id found no row: a caller bug (the id was never stored)."""


class SchemaTooNewError(StorageError):
    """The database was migrated by a newer smsgw than this one: refuse to touch it."""


class TxClosedError(StorageError):
    """A `Tx` used after its unit of work ended (kept past `work`, or used by a task)."""


class WorkCancelledError(StorageError):
    """A unit of work cancelled by something it awaited outside its Tx (which the port
    forbids); its caller hears this rather than a CancelledError it did not ask for."""
