"""Civil Code Art. 278 at its edges, in exact fractions (thresholds.py, pure)."""

from fractions import Fraction

from marketplace.proposals.thresholds import Rule, Tally, decide, parse_fraction, reaches

ORDINARY, SPECIAL = Rule.default("ordinary"), Rule.default("special")


def test_exactly_two_thirds_taking_part_is_enough_and_one_household_fewer_is_not():
    assert decide(ORDINARY, Tally(9, 6, 4)).quorum
    assert not decide(ORDINARY, Tally(9, 5, 5)).quorum
    # 2/3 of 100 is 66.67: 67 households are enough, 66 are not (no rounding decides it)
    assert decide(ORDINARY, Tally(100, 67, 60)).quorum
    assert not decide(ORDINARY, Tally(100, 66, 66)).quorum


def test_an_ordinary_matter_needs_more_than_half_and_exactly_half_fails():
    assert decide(ORDINARY, Tally(6, 6, 4)).passed
    assert not decide(ORDINARY, Tally(6, 6, 3)).passed  # exactly half is not more than half
    assert decide(ORDINARY, Tally(7, 5, 3)).passed


def test_a_special_matter_needs_three_quarters_exactly_three_quarters_is_enough():
    assert decide(SPECIAL, Tally(8, 8, 6)).passed  # exactly 3/4 of those taking part
    assert not decide(SPECIAL, Tally(8, 8, 5)).passed  # one vote short
    assert decide(SPECIAL, Tally(12, 8, 6)).passed  # 8 of 12 take part (exactly 2/3), 6 of 8 for


def test_area_counts_as_well_where_entered_and_both_must_pass():
    # enough households take part, but they hold less than two thirds of the area
    tally = Tally(3, 2, 2, eligible_area=30000, voted_area=19999, yes_area=19999, area_counted=True)
    outcome = decide(ORDINARY, tally)
    assert outcome.participation_by_households and not outcome.participation_by_area and not outcome.passed
    tally = Tally(3, 2, 2, eligible_area=30000, voted_area=20000, yes_area=20000, area_counted=True)
    assert decide(ORDINARY, tally).passed
    # the area against outweighs the households for
    tally = Tally(3, 3, 2, eligible_area=30000, voted_area=30000, yes_area=15000, area_counted=True)
    outcome = decide(ORDINARY, tally)
    assert outcome.majority_by_households and not outcome.majority_by_area and not outcome.passed


def test_nobody_voting_passes_nothing_and_fractions_are_read_exactly():
    assert not decide(ORDINARY, Tally(5, 0, 0)).passed
    assert not reaches(0, 0, Fraction(1, 2))
    assert parse_fraction("2/3") == Fraction(2, 3)
    assert parse_fraction(" 3／4 ") == Fraction(3, 4)
    for bad in ("", "2/0", "4/3", "0/3", "x/3", "0.66", "1/2/3", "-1/2"):
        assert parse_fraction(bad) is None, bad
