"""The owners' voting rule (Civil Code Art. 278) in exact fractions, so that the edges decide as
the law says: exactly two thirds taking part is enough, one household fewer is not; a special
matter needs at least three quarters of those taking part, any other more than half.

Counted by households always, and by floor area as well when every household in scope has one
(`area_counted`); both must pass. Pure functions over numbers: the vote's count calls them, and
so do the pages that show how far a running vote is from the line.
"""

from dataclasses import dataclass
from fractions import Fraction

# matter -> (participation, majority, majority is "more than" rather than "at least")
DEFAULTS = {
    "ordinary": (Fraction(2, 3), Fraction(1, 2), True),
    "special": (Fraction(2, 3), Fraction(3, 4), False),
}


@dataclass(frozen=True)
class Rule:
    participation: Fraction
    majority: Fraction
    strict: bool  # the majority must exceed the fraction (ordinary) or reach it (special)

    @classmethod
    def default(cls, matter: str) -> "Rule":
        participation, majority, strict = DEFAULTS[matter]
        return cls(participation, majority, strict)


@dataclass(frozen=True)
class Tally:
    eligible_households: int
    voted_households: int
    yes_households: int
    eligible_area: int = 0
    voted_area: int = 0
    yes_area: int = 0
    area_counted: bool = False


@dataclass(frozen=True)
class Outcome:
    participation_by_households: bool
    participation_by_area: bool | None  # None: area not counted
    majority_by_households: bool
    majority_by_area: bool | None

    @property
    def quorum(self) -> bool:
        return self.participation_by_households and self.participation_by_area is not False

    @property
    def passed(self) -> bool:
        return self.quorum and self.majority_by_households and self.majority_by_area is not False


def reaches(part: int, whole: int, fraction: Fraction, strict: bool = False) -> bool:
    """part/whole >= fraction (or > when strict), exactly; nothing of nothing reaches nothing."""
    if whole <= 0:
        return False
    share = Fraction(part, whole)
    return share > fraction if strict else share >= fraction


def decide(rule: Rule, tally: Tally) -> Outcome:
    by_area = tally.area_counted
    return Outcome(
        participation_by_households=reaches(tally.voted_households, tally.eligible_households, rule.participation),
        participation_by_area=reaches(tally.voted_area, tally.eligible_area, rule.participation) if by_area else None,
        majority_by_households=reaches(tally.yes_households, tally.voted_households, rule.majority, rule.strict),
        majority_by_area=reaches(tally.yes_area, tally.voted_area, rule.majority, rule.strict) if by_area else None,
    )


def parse_fraction(text: str) -> Fraction | None:
    """"2/3", "3/4", "1/2" as staff type them; None for anything that is not a fraction in (0, 1]."""
    text = (text or "").strip().replace("／", "/")
    head, sep, tail = text.partition("/")
    if not sep or not head.strip().isdigit() or not tail.strip().isdigit() or len(text) > 9:
        return None
    num, den = int(head), int(tail)
    if num <= 0 or den <= 0 or num > den:
        return None
    return Fraction(num, den)
