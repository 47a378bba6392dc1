"""What a deployment configures about its command language."""

from __future__ import annotations

from dataclasses import dataclass, field

from smsgw.commands.plates import PlateRules, plate_rules

# docs/rules.md §1: a zone's maximum defaults to 24 hours; the parser refuses more than the
# gateway-wide maximum, the domain then checks the zone's own
DEFAULT_MAX_HOURS = 24


@dataclass(frozen=True, slots=True)
class ZoneExample:
    """What an example command needs to know of a zone."""

    number: str
    country: str  # whose plates park there: "ru", "kz"
    max_hours: int = DEFAULT_MAX_HOURS


@dataclass(frozen=True, slots=True)
class ParseSettings:
    plates: PlateRules = field(default_factory=plate_rules)
    max_hours: int = DEFAULT_MAX_HOURS
    # the deployment's zones, in configuration order: examples are built from them
    zones: tuple[ZoneExample, ...] = ()

    def __post_init__(self) -> None:
        if self.max_hours < 1:
            raise ValueError(f"max_hours must be at least 1, got {self.max_hours}")
