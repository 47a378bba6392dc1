"""The schema, as numbered migrations, written once for both backends.

Each statement names its column types by role, and `render` substitutes a backend's
names: `{time}` is UTC ISO-8601 text with microseconds on SQLite
(`2024-03-01T09:00:00.000000+00:00`: one fixed width, so text order is time order and
the file stays readable with the sqlite3 shell) and timestamptz on PostgreSQL; `{money}`
an INTEGER / BIGINT of minor units beside its currency; `{json}` TEXT / jsonb; `{bytes}`
BLOB / bytea; `{serial_key}` an AUTOINCREMENT / BIGSERIAL primary key; `{strict}` makes
SQLite tables STRICT, so a float or a stray string can never land in a money column.

Versions 1–5 render to exactly the statements each backend has always run
(tests/storage/test_schema_source.py compares the resulting schemas): a released
database keeps working. A new version goes at the end of MIGRATIONS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from smsgw.storage.schema import Migration, check_ordered


@dataclass(frozen=True, slots=True)
class SchemaTypes:
    """What a backend calls each role a column plays."""

    time: str
    money: str
    json: str
    bytes: str
    serial_key: str
    strict: str


SQLITE_TYPES: Final = SchemaTypes(
    time="TEXT",
    money="INTEGER",
    json="TEXT",
    bytes="BLOB",
    serial_key="INTEGER PRIMARY KEY AUTOINCREMENT",
    strict=" STRICT",
)
POSTGRES_TYPES: Final = SchemaTypes(
    time="TIMESTAMPTZ",
    money="BIGINT",
    json="JSONB",
    bytes="BYTEA",
    serial_key="BIGSERIAL PRIMARY KEY",
    strict="",
)

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
        received_at {time} NOT NULL,
        lease_owner TEXT,
        lease_until {time},
        processed_at {time},
        outcome TEXT,
        UNIQUE (link_id, dedup_key)
    ){strict}
    """,
    "CREATE INDEX inbound_unprocessed ON inbound (received_at, id) WHERE processed_at IS NULL",
    """
    CREATE TABLE phones (
        msisdn TEXT PRIMARY KEY,
        language TEXT,
        operator_id TEXT
    ){strict}
    """,
    """
    CREATE TABLE ledger_transactions (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        reference TEXT NOT NULL,
        at {time} NOT NULL,
        UNIQUE (kind, reference)
    ){strict}
    """,
    """
    CREATE TABLE ledger_entries (
        transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
        position INTEGER NOT NULL,
        account TEXT NOT NULL,
        amount_minor {money} NOT NULL,
        currency TEXT NOT NULL,
        PRIMARY KEY (transaction_id, position)
    ){strict}
    """,
    "CREATE INDEX ledger_entries_account ON ledger_entries (account)",
    # Kept in the same transaction as the entries; derivable from them (a test checks).
    # The CHECK is a last line of defence: the code refuses first, with the facts.
    """
    CREATE TABLE balances (
        account TEXT PRIMARY KEY,
        account_kind TEXT NOT NULL,
        currency TEXT NOT NULL,
        balance_minor {money} NOT NULL,
        CHECK (account_kind <> 'phone' OR balance_minor >= 0)
    ){strict}
    """,
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        phone TEXT NOT NULL,
        zone TEXT NOT NULL,
        plate TEXT NOT NULL,
        start_at {time} NOT NULL,
        end_at {time} NOT NULL,
        prepaid_minor {money} NOT NULL,
        currency TEXT NOT NULL,
        state TEXT NOT NULL,
        closed_at {time}
    ){strict}
    """,
    "CREATE UNIQUE INDEX sessions_one_active_per_plate ON sessions (plate) WHERE state = 'active'",
    "CREATE INDEX sessions_phone_state ON sessions (phone, state, end_at)",
    """
    CREATE TABLE charges (
        id TEXT PRIMARY KEY,
        phone TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        amount_minor {money} NOT NULL,
        currency TEXT NOT NULL,
        purpose TEXT NOT NULL,
        requested_at {time} NOT NULL,
        deadline {time} NOT NULL,
        state TEXT NOT NULL,
        details {json} NOT NULL,
        operator_reference TEXT
    ){strict}
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
        created_at {time} NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before {time},
        lease_owner TEXT,
        lease_until {time},
        message_id TEXT,
        last_error TEXT,
        sent_at {time},
        receipt_state TEXT,
        receipt_at {time},
        finished_at {time}
    ){strict}
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
        due_at {time} NOT NULL,
        lease_owner TEXT,
        lease_until {time},
        UNIQUE (kind, reference)
    ){strict}
    """,
    "CREATE INDEX jobs_due ON jobs (due_at, id)",
    "CREATE INDEX jobs_reference ON jobs (reference)",
    """
    CREATE TABLE callback_nonces (
        operator_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        seen_at {time} NOT NULL,
        PRIMARY KEY (operator_id, nonce)
    ){strict}
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
        sent_at {time} NOT NULL,
        receipt_at {time},
        PRIMARY KEY (outbox_id, part)
    ){strict}
    """,
    "CREATE INDEX outbox_parts_message ON outbox_parts (message_id)",
    """
    CREATE TABLE held_receipts (
        id {serial_key},
        operator_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        state TEXT NOT NULL,
        received_at {time} NOT NULL,
        expires_at {time} NOT NULL
    ){strict}
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
        opened_at {time} NOT NULL,
        alive_at {time} NOT NULL,
        closed_at {time}
    ){strict}
    """,
    """
    CREATE TABLE smpp_mo (
        id TEXT PRIMARY KEY,
        link_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        bind_id TEXT NOT NULL,
        stored_at {time} NOT NULL,
        answered_at {time},
        answer_status INTEGER
    ){strict}
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
        payload {bytes} NOT NULL,
        received_at {time} NOT NULL,
        PRIMARY KEY (link_id, sender, receiver, reference, total, seqnum)
    ){strict}
    """,
    "CREATE INDEX smpp_mo_parts_received ON smpp_mo_parts (link_id, received_at)",
)

# The redelivery check looks an MO up by (link, digest) and reads the matches oldest
# first. With an index on (link, digest) alone SQLite's planner walked the link's whole
# (link, stored_at) index instead, to save the sort: a scan per MO, ~50x slower at a few
# thousand stored MO. With stored_at in the digest index one search serves both.
_SMPP_MO_LOOKUP = (
    "DROP INDEX smpp_mo_digest",
    "CREATE INDEX smpp_mo_digest ON smpp_mo (link_id, digest, stored_at)",
)

# The held-receipt sweep takes the oldest held receipts a batch at a time: without an
# index in that order each sweep read and sorted every held receipt to return a batch.
_HOT_PATH_PLANS = ("CREATE INDEX held_receipts_received ON held_receipts (received_at, id)",)

# The driver API (docs/driver-api.md): sign-in codes (only an HMAC of each code is kept,
# with an HMAC of the client address that asked, for the per-address limit), signed-in
# sessions (a token names one; revoking the row kills the token) and saved plates.
_DRIVER = (
    """
    CREATE TABLE driver_codes (
        id TEXT PRIMARY KEY,
        msisdn TEXT NOT NULL,
        source TEXT NOT NULL,
        code_mac TEXT NOT NULL,
        created_at {time} NOT NULL,
        expires_at {time} NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        used_at {time}
    ){strict}
    """,
    "CREATE INDEX driver_codes_phone ON driver_codes (msisdn, created_at)",
    "CREATE INDEX driver_codes_source ON driver_codes (source, created_at)",
    """
    CREATE TABLE driver_sessions (
        id TEXT PRIMARY KEY,
        msisdn TEXT NOT NULL,
        created_at {time} NOT NULL,
        expires_at {time} NOT NULL,
        revoked_at {time}
    ){strict}
    """,
    "CREATE INDEX driver_sessions_phone ON driver_sessions (msisdn, expires_at)",
    """
    CREATE TABLE driver_vehicles (
        msisdn TEXT NOT NULL,
        plate TEXT NOT NULL,
        added_at {time} NOT NULL,
        PRIMARY KEY (msisdn, plate)
    ){strict}
    """,
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial", _INITIAL),
    Migration(2, "phone_history", _PHONE_HISTORY),
    Migration(3, "retention", _RETENTION),
    Migration(4, "receipts", _RECEIPTS),
    Migration(5, "smpp_mo_intake", _SMPP_MO_INTAKE),
    Migration(6, "smpp_mo_lookup", _SMPP_MO_LOOKUP),
    Migration(7, "hot_path_plans", _HOT_PATH_PLANS),
    Migration(8, "driver_api", _DRIVER),
)
check_ordered(MIGRATIONS)


def render(migrations: tuple[Migration, ...], types: SchemaTypes) -> tuple[Migration, ...]:
    """The migrations with a backend's type names in place of the roles."""
    names = {
        "time": types.time,
        "money": types.money,
        "json": types.json,
        "bytes": types.bytes,
        "serial_key": types.serial_key,
        "strict": types.strict,
    }
    return tuple(
        Migration(m.version, m.name, tuple(s.format_map(names) for s in m.statements))
        for m in migrations
    )
