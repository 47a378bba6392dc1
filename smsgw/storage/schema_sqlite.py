"""The SQLite schema, as numbered migrations.

Times are UTC ISO-8601 text with microseconds (`2024-03-01T09:00:00.000000+00:00`): one
fixed width, so text order is time order and the file stays readable with the sqlite3
shell. Money is an INTEGER of minor units beside its currency. Tables are STRICT so a
float or a stray string can never land in a money column.
"""

from __future__ import annotations

from smsgw.storage.schema import Migration, check_ordered

_INITIAL = (
    """
    CREATE TABLE inbound (
        id TEXT PRIMARY KEY,
        link_id TEXT NOT NULL,
        dedup_key TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        receiver TEXT NOT NULL,
        text TEXT NOT NULL,
        received_at TEXT NOT NULL,
        lease_owner TEXT,
        lease_until TEXT,
        processed_at TEXT,
        outcome TEXT,
        UNIQUE (link_id, dedup_key)
    ) STRICT
    """,
    "CREATE INDEX inbound_unprocessed ON inbound (received_at, id) WHERE processed_at IS NULL",
    """
    CREATE TABLE phones (
        msisdn TEXT PRIMARY KEY,
        language TEXT,
        operator_id TEXT
    ) STRICT
    """,
    """
    CREATE TABLE ledger_transactions (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        reference TEXT NOT NULL,
        at TEXT NOT NULL,
        UNIQUE (kind, reference)
    ) STRICT
    """,
    """
    CREATE TABLE ledger_entries (
        transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
        position INTEGER NOT NULL,
        account TEXT NOT NULL,
        amount_minor INTEGER NOT NULL,
        currency TEXT NOT NULL,
        PRIMARY KEY (transaction_id, position)
    ) STRICT
    """,
    "CREATE INDEX ledger_entries_account ON ledger_entries (account)",
    # Kept in the same transaction as the entries; derivable from them (a test checks).
    # The CHECK is a last line of defence: the code refuses first, with the facts.
    """
    CREATE TABLE balances (
        account TEXT PRIMARY KEY,
        account_kind TEXT NOT NULL,
        currency TEXT NOT NULL,
        balance_minor INTEGER NOT NULL,
        CHECK (account_kind <> 'phone' OR balance_minor >= 0)
    ) STRICT
    """,
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        phone TEXT NOT NULL,
        zone TEXT NOT NULL,
        plate TEXT NOT NULL,
        start_at TEXT NOT NULL,
        end_at TEXT NOT NULL,
        prepaid_minor INTEGER NOT NULL,
        currency TEXT NOT NULL,
        state TEXT NOT NULL,
        closed_at TEXT
    ) STRICT
    """,
    "CREATE UNIQUE INDEX sessions_one_active_per_plate ON sessions (plate) WHERE state = 'active'",
    "CREATE INDEX sessions_phone_state ON sessions (phone, state, end_at)",
    """
    CREATE TABLE charges (
        id TEXT PRIMARY KEY,
        phone TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        amount_minor INTEGER NOT NULL,
        currency TEXT NOT NULL,
        purpose TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        deadline TEXT NOT NULL,
        state TEXT NOT NULL,
        details TEXT NOT NULL,
        operator_reference TEXT
    ) STRICT
    """,
    """
    CREATE UNIQUE INDEX charges_one_pending_per_phone ON charges (phone)
    WHERE state IN ('requested', 'awaiting_confirmation')
    """,
    "CREATE INDEX charges_usage ON charges (phone, operator_id, requested_at)",
    "CREATE INDEX charges_state ON charges (state, requested_at)",
    """
    CREATE TABLE outbox (
        outbox_id TEXT PRIMARY KEY,
        operator_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        receiver TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before TEXT,
        lease_owner TEXT,
        lease_until TEXT,
        message_id TEXT,
        last_error TEXT,
        sent_at TEXT,
        receipt_state TEXT,
        receipt_at TEXT,
        finished_at TEXT
    ) STRICT
    """,
    "CREATE INDEX outbox_pending ON outbox (created_at, outbox_id) WHERE state = 'pending'",
    """
    CREATE INDEX outbox_message ON outbox (operator_id, message_id)
    WHERE message_id IS NOT NULL
    """,
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        reference TEXT NOT NULL,
        due_at TEXT NOT NULL,
        lease_owner TEXT,
        lease_until TEXT,
        UNIQUE (kind, reference)
    ) STRICT
    """,
    "CREATE INDEX jobs_due ON jobs (due_at, id)",
    "CREATE INDEX jobs_reference ON jobs (reference)",
    """
    CREATE TABLE callback_nonces (
        operator_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (operator_id, nonce)
    ) STRICT
    """,
    "CREATE INDEX callback_nonces_seen ON callback_nonces (seen_at)",
)

# support's phone history reads a phone's replies newest first
_PHONE_HISTORY = ("CREATE INDEX outbox_receiver ON outbox (receiver, created_at)",)

# retention deletes the oldest finished rows in small batches: these find them without
# a scan (charges_state and callback_nonces_seen already serve charges and nonces)
_RETENTION = (
    "CREATE INDEX inbound_processed ON inbound (received_at) WHERE processed_at IS NOT NULL",
    "CREATE INDEX outbox_finished ON outbox (created_at) WHERE state <> 'pending'",
)

# Delivery receipts per part of a reply, and receipts that came before the
# submit_sm_resp carrying their message id (held until it comes, or until they expire).
_RECEIPTS = (
    """
    CREATE TABLE outbox_parts (
        outbox_id TEXT NOT NULL REFERENCES outbox (outbox_id),
        part INTEGER NOT NULL,
        parts INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        state TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        receipt_at TEXT,
        PRIMARY KEY (outbox_id, part)
    ) STRICT
    """,
    "CREATE INDEX outbox_parts_message ON outbox_parts (message_id)",
    """
    CREATE TABLE held_receipts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        operator_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        state TEXT NOT NULL,
        received_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) STRICT
    """,
    "CREATE INDEX held_receipts_message ON held_receipts (operator_id, message_id)",
)

# The SMPP MO intake: which bind each MO was answered on (to tell an SMSC's redelivery
# from a driver texting the same again, across restarts) and the parts of long MOs,
# stored before each part is acknowledged.
_SMPP_MO_INTAKE = (
    """
    CREATE TABLE smpp_binds (
        id TEXT PRIMARY KEY,
        link_id TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        alive_at TEXT NOT NULL,
        closed_at TEXT
    ) STRICT
    """,
    """
    CREATE TABLE smpp_mo (
        id TEXT PRIMARY KEY,
        link_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        bind_id TEXT NOT NULL,
        stored_at TEXT NOT NULL,
        answered_at TEXT,
        answer_status INTEGER
    ) STRICT
    """,
    "CREATE INDEX smpp_mo_digest ON smpp_mo (link_id, digest)",
    "CREATE INDEX smpp_mo_stored ON smpp_mo (link_id, stored_at)",
    """
    CREATE TABLE smpp_mo_parts (
        link_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        receiver TEXT NOT NULL,
        reference INTEGER NOT NULL,
        total INTEGER NOT NULL,
        seqnum INTEGER NOT NULL,
        data_coding INTEGER NOT NULL,
        payload BLOB NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (link_id, sender, receiver, reference, total, seqnum)
    ) STRICT
    """,
    "CREATE INDEX smpp_mo_parts_received ON smpp_mo_parts (link_id, received_at)",
)

SQLITE_MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial", _INITIAL),
    Migration(2, "phone_history", _PHONE_HISTORY),
    Migration(3, "retention", _RETENTION),
    Migration(4, "receipts", _RECEIPTS),
    Migration(5, "smpp_mo_intake", _SMPP_MO_INTAKE),
)
check_ordered(SQLITE_MIGRATIONS)
