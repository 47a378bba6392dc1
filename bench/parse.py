"""Commands parsed per second: smsgw's parse_command against bare lark LALR.

    python bench/parse.py [--texts 4000] [--repeats 7]

Both parse the same mixed corpus (valid and invalid texts, Latin and Cyrillic, with the
noise phones add) in the same run. "Bare lark" is the grammar/commands.lark LALR parser
building its parse tree, with the errors it raises caught; "ours" is the whole
parse_command: clean-up, the parse, plate and hour checks, and for bad texts the
diagnosis with its example. The figure is the median over the repeats; the ratio
(bare rate / our rate) must stay within 2, else the exit status is 1.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from lark import Lark
from lark.exceptions import LarkError

from smsgw.commands import ParseError, parse_command
from smsgw.commands.grammar import grammar_text, parse_draft

MAX_RATIO = 2.0

_TO_CYRILLIC = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")
_VALID_SHAPES = (
    "{zone}*{plate}*{hours}",
    "{zone}*{plate}",
    "{zone} * {plate} * {hours}\n",
    "{zone}＊{plate}＊{hours}",
    "X*{hours}",
    "х*{hours}*{plate}",
    "X{hours}",
    "S",
    "с*{plate}",
    "I",
    "Й",
    "1",
    "0",
    "LANG*KK",
    "?",
    "помощь",
)
_INVALID_SHAPES = (
    "{zone} {plate} {hours}",
    "{zone}*{plate}*0",
    "{zone}*Ж{hours}3BC77*{hours}",
    "{zone}*D123BC77",
    "X*{plate}",
    "стоп",
    "hello, how do I pay?",
    "{zone}",
    "LANG*FR",
    "",
)


def corpus(size: int, seed: int = 7) -> list[str]:
    """`size` texts, three valid to one invalid, half the plates in Cyrillic."""
    chooser = random.Random(seed)
    texts = []
    for index in range(size):
        shapes = _INVALID_SHAPES if index % 4 == 3 else _VALID_SHAPES
        plate = _plate(chooser)
        if chooser.random() < 0.5:
            plate = plate.translate(_TO_CYRILLIC).lower()
        texts.append(
            chooser.choice(shapes).format(
                zone=chooser.randint(1000, 9999), plate=plate, hours=chooser.randint(1, 9)
            )
        )
    return texts


def _plate(chooser: random.Random) -> str:
    letters = "ABEKMHOPCTYX"
    digits = "".join(chooser.choice("0123456789") for _ in range(3))
    series = "".join(chooser.choice(letters) for _ in range(2))
    return f"{chooser.choice(letters)}{digits}{series}{chooser.randint(10, 199)}"


def ours(texts: Sequence[str]) -> int:
    # each run starts cold: the gateway keeps the drafts of recent texts
    # (smsgw/commands/grammar.py), and a repeated corpus would measure that cache
    parse_draft.cache_clear()
    return sum(not isinstance(parse_command(text), ParseError) for text in texts)


def bare_lark(parser: Lark) -> Callable[[Sequence[str]], int]:
    def run(texts: Sequence[str]) -> int:
        parsed = 0
        for text in texts:
            try:
                parser.parse(text)
            except LarkError:
                continue
            parsed += 1
        return parsed

    return run


def rate(run: Callable[[Sequence[str]], int], texts: Sequence[str], repeats: int) -> float:
    """Median texts per second over `repeats` runs."""
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(texts)
        rates.append(len(texts) / (time.perf_counter() - started))
    return statistics.median(rates)


def main(argv: Sequence[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--texts", type=int, default=4000)
    options.add_argument("--repeats", type=int, default=7)
    args = options.parse_args(argv)

    texts = corpus(args.texts)
    bare = bare_lark(Lark(grammar_text(), parser="lalr"))
    ours(texts[:100])  # build our parser and warm caches outside the timing
    bare(texts[:100])
    accepted = ours(texts)

    # interleaved, so both see the same machine load
    our_rates, bare_rates = [], []
    for _ in range(args.repeats):
        our_rates.append(rate(ours, texts, 1))
        bare_rates.append(rate(bare, texts, 1))
    our_rate = statistics.median(our_rates)
    bare_rate = statistics.median(bare_rates)
    ratio = bare_rate / our_rate

    print(f"corpus: {len(texts)} texts, {accepted} valid commands, {args.repeats} repeats")
    print(f"bare lark LALR (tree):  {bare_rate:>10,.0f} texts/s")
    print(f"smsgw parse_command:    {our_rate:>10,.0f} texts/s")
    verdict = "ok" if ratio <= MAX_RATIO else f"TOO SLOW (limit {MAX_RATIO:.1f}x)"
    print(f"ratio bare/ours:        {ratio:>10.2f}x  {verdict}")
    return 0 if ratio <= MAX_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
