"""The drafts of recent texts are kept (smsgw/commands/grammar.py): a kept draft must be
what parsing the text afresh gives, and the cache must stay bounded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smsgw.commands.grammar import PARSE_CACHE_SIZE, parse_draft

COMMAND_ALPHABET = st.sampled_from("0123456789*ABCEHKMOPTXYIS ")


@given(st.text(COMMAND_ALPHABET, max_size=24))
def test_a_kept_draft_is_the_fresh_parse(text: str) -> None:
    first = parse_draft(text)
    again = parse_draft(text)
    assert again == first == parse_draft.__wrapped__(text)


def test_the_cache_is_bounded() -> None:
    parse_draft.cache_clear()
    for number in range(PARSE_CACHE_SIZE + 100):
        parse_draft(f"{number}*A123BC77*1")
    info = parse_draft.cache_info()
    assert info.maxsize == PARSE_CACHE_SIZE
    assert info.currsize == PARSE_CACHE_SIZE
