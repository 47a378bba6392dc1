"""The one builder of a gateway's config.toml for a simulated world: what it writes is
read back by TOML and accepted by the gateway's own configuration loader."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.bench.config import BENCH_ZONE, GatewayConfig, toml_text
from simulator.bench.gateway import operators_dir
from simulator.config import SmscAccount
from smsgw.config import config_from_mapping, read_operator_files
from smsgw.domain.errors import ConfigError

keys = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
)
inline = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
tables = st.dictionaries(keys, inline, max_size=4)
documents = st.dictionaries(
    keys,
    st.one_of(inline, tables, st.lists(tables.filter(bool), min_size=1, max_size=3)),
    max_size=5,
)


@given(documents)
def test_what_is_written_reads_back_the_same(document: dict[str, Any]) -> None:
    assert tomllib.loads(toml_text(document)) == document


def test_a_bench_gateway_config_is_one_the_gateway_accepts() -> None:
    config = GatewayConfig(
        storage_dsn="sqlite:///bench.sqlite3",
        smsc_port=2775,
        links=[SmscAccount("bench-mts", "pw", "mts"), SmscAccount("bench-t2", "pw", "t2")],
        charging={
            "mts": ("http://127.0.0.1:8001", "s1" * 16),
            "t2": ("http://127.0.0.1:8002", "s2" * 16),
        },
        window=50,
    )
    raw = tomllib.loads(toml_text(config.document()))
    app = config_from_mapping(raw, read_operator_files(operators_dir()))
    assert [link.operator for link in app.links] == ["mts", "t2"]
    assert {link.port for link in app.links} == {2775}
    assert list(app.zones) == [BENCH_ZONE]


def test_a_paying_operators_link_without_charging_is_refused_naming_it() -> None:
    config = GatewayConfig("sqlite:///x.sqlite3", 2775, [SmscAccount("bench", "pw", "mts")])
    raw = tomllib.loads(toml_text(config.document()))
    with pytest.raises(ConfigError, match=r"links\[0\]\.operator.*charging\.mts"):
        config_from_mapping(raw, read_operator_files(operators_dir()))
