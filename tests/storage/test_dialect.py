"""The dialect the shared SQL is written in: `?` placeholders numbered for PostgreSQL,
literals left alone, times stored as each backend keeps them and read back the same."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.storage.sql.dialect import POSTGRES, SQLITE, marks, numbered

# SQL text without quotes or placeholders, a quoted literal or name (which may hold `?`
# and doubled quotes), or a placeholder
_plain = st.text(alphabet=st.characters(exclude_characters="'\"?"), max_size=12)
_literal = st.builds(
    lambda quote, body: quote + body.replace(quote, quote * 2) + quote,
    st.sampled_from(["'", '"']),
    st.text(max_size=8),
)
_pieces = st.lists(st.one_of(_plain, _literal, st.just("?")), max_size=20)


@given(_pieces)
def test_placeholders_are_numbered_in_order_and_nothing_else_changes(pieces: list[str]) -> None:
    expected: list[str] = []
    count = 0
    for piece in pieces:
        if piece == "?":
            count += 1
            expected.append(f"${count}")
        else:
            expected.append(piece)

    assert numbered("".join(pieces)) == "".join(expected)


@given(_pieces)
def test_numbering_is_one_to_n_without_gaps(pieces: list[str]) -> None:
    # a space between pieces: `?1` would be SQLite's numbered form, which the SQL never uses
    sql = " ".join(piece.replace("$", "") for piece in pieces)
    found = [int(n) for n in re.findall(r"\$(\d+)", numbered(sql))]
    assert found == list(range(1, pieces.count("?") + 1))


def test_statements_as_the_storage_writes_them() -> None:
    assert numbered("SELECT * FROM t WHERE a = ? AND b IN (?, ?) LIMIT ?") == (
        "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) LIMIT $4"
    )
    assert numbered("WHERE state = 'why?' AND x = ?") == "WHERE state = 'why?' AND x = $1"
    assert numbered("WHERE s = 'it''s ?' AND x = ?") == "WHERE s = 'it''s ?' AND x = $1"
    assert numbered('SELECT "odd?name" FROM t WHERE x = ?') == (
        'SELECT "odd?name" FROM t WHERE x = $1'
    )
    assert numbered("account = ANY(?::text[])") == "account = ANY($1::text[])"
    assert numbered("SELECT 1") == "SELECT 1"


def test_marks_make_an_in_list() -> None:
    assert marks(1) == "?"
    assert marks(3) == "?, ?, ?"
    with pytest.raises(ValueError, match="at least one"):
        marks(0)


_aware = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(9998, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5)), timezone(timedelta(hours=-3))]),
)


@given(_aware)
def test_a_time_reads_back_as_the_same_instant_in_utc(moment: datetime) -> None:
    for dialect in (SQLITE, POSTGRES):
        back = dialect.read_time(dialect.time(moment))
        assert back == moment
        assert back.utcoffset() == timedelta(0)


@given(_aware, _aware)
def test_sqlite_time_text_sorts_as_time(first: datetime, second: datetime) -> None:
    # SQLite compares the stored text: its order must be the instants' order
    first_text, second_text = SQLITE.time(first), SQLITE.time(second)
    assert isinstance(first_text, str) and isinstance(second_text, str)
    assert (first_text < second_text) == (first < second)


def test_a_naive_time_is_refused_by_both() -> None:
    for dialect in (SQLITE, POSTGRES):
        with pytest.raises(ValueError, match="timezone-aware"):
            dialect.time(datetime(2024, 3, 1, 9, 0))


def test_optional_times() -> None:
    moment = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    for dialect in (SQLITE, POSTGRES):
        assert dialect.optional_time(None) is None
        assert dialect.read_optional_time(None) is None
        assert dialect.read_optional_time(dialect.optional_time(moment)) == moment
