"""议定: the households' vote. One vote per verified household concerned, cast online by any of
its members or recorded in person by staff (audited, on the household's behalf), open for a set
period; counted at the close by households and by floor area under the matter's rule
(thresholds.py), and the figures frozen on the proposal.

The UNIQUE (proposal, household) index is what keeps one vote per household when members vote
at the same moment: the vote is inserted with ON CONFLICT DO NOTHING, so the first wins and every
other is told the household has voted.
"""

from datetime import datetime, timedelta
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace import audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.ledger import services as ledger
from marketplace.notifications.services import notify
from marketplace.places.models import Household
from marketplace.proposals import thresholds
from marketplace.proposals.models import CHOICES, MATTERS, Proposal, ProposalVote
from marketplace.proposals.services import (
    _changed,
    concerns,
    get_covered,
    get_visible,
    household_of,
    households_in,
    verified_households_in,
)
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant, User

MAX_VOTE_DAYS = 60


def rule_of(proposal: Proposal) -> thresholds.Rule:
    return thresholds.Rule(Fraction(proposal.participation_num, proposal.participation_den),
                           Fraction(proposal.majority_num, proposal.majority_den), proposal.majority_strict)


def open_vote(staff, proposal_id: int, motion: str, matter: str, days: int, participation: str = "",
              majority: str = "", now: datetime | None = None) -> Proposal:
    """The motion put to the vote, the matter's rule (Art. 278 by default; staff may set another
    the owners agreed), and how long it stays open."""
    now = now or utcnow()
    proposal = get_covered(staff, proposal_id)
    motion = " ".join((motion or "").split())
    if len(motion) < 4 or len(motion) > 500:
        raise DomainError(_("Please write the motion the households vote on (4 to 500 characters)."), field="motion",
                          code="invalid")
    if matter not in MATTERS:
        raise DomainError(_("Please choose the kind of matter."), field="matter", code="invalid")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_VOTE_DAYS:
        raise DomainError(_("The vote stays open 1 to %(most)d days.", most=MAX_VOTE_DAYS), field="days", code="invalid")
    rule = thresholds.Rule.default(matter)
    if participation:
        value = thresholds.parse_fraction(participation)
        if value is None:
            raise DomainError(_("Please write a fraction such as 2/3."), field="participation", code="invalid")
        rule = thresholds.Rule(value, rule.majority, rule.strict)
    if majority:
        value = thresholds.parse_fraction(majority)
        if value is None:
            raise DomainError(_("Please write a fraction such as 3/4."), field="majority", code="invalid")
        rule = thresholds.Rule(rule.participation, value, rule.strict)
    if not verified_households_in(proposal).exists():
        raise DomainError(_("No verified household is concerned: verify the residents first."), status=409,
                          code="not_allowed")
    with db.atomic():
        _changed(proposal.id, "discussion", status="voting", motion=motion, matter=matter,
                 participation_num=rule.participation.numerator, participation_den=rule.participation.denominator,
                 majority_num=rule.majority.numerator, majority_den=rule.majority.denominator,
                 majority_strict=rule.strict, vote_opens_at=now, vote_closes_at=now + timedelta(days=days))
        audit.record(staff, "proposals.vote.opened", proposal, motion=motion, matter=matter,
                     participation=str(rule.participation), majority=str(rule.majority), days=days)
    return Proposal.get_by_id(proposal.id)


def _cast(proposal: Proposal, household: Household, choice: str, voter, recorded_by, method: str,
          now: datetime) -> ProposalVote:
    if choice not in CHOICES:
        raise DomainError(_("Please choose for, against or abstain."), field="choice", code="invalid")
    if proposal.status != "voting":
        raise DomainError(_("This matter is not open for voting."), status=409, code="vote_closed")
    if now >= proposal.vote_closes_at:
        raise DomainError(_("The vote closed on %(when)s.", when=proposal.vote_closes_at.strftime("%Y-%m-%d %H:%M")),
                          status=409, code="vote_closed")
    if not verified_households_in(proposal).where(Household.id == household.id).exists():
        raise DomainError(_("Only the verified households this matter concerns can vote."), status=403,
                          code="out_of_scope")
    with db.atomic():
        query = ProposalVote.insert(proposal=proposal.id, household=household.id, choice=choice, voter=voter,
                                    recorded_by=recorded_by.id, method=method, created_at=now)
        # The row count is the one answer both databases give right (SQLite's last row id is
        # left over from before), as at the events' door.
        added = db.execute(query.on_conflict_ignore()).rowcount == 1
        first = ProposalVote.get((ProposalVote.proposal == proposal.id) & (ProposalVote.household == household.id))
        if not added:
            raise DomainError(_("Your household has already voted on this matter (%(when)s). One vote per household.",
                                when=first.created_at.strftime("%Y-%m-%d %H:%M")), status=409, code="already_voted")
        if method == "in_person":
            audit.record(recorded_by, "proposals.vote.recorded_in_person", proposal, household=household.id,
                         choice=choice)
        _pay_vote(proposal, first)
    return ProposalVote.get_by_id(first.id)


def _pay_vote(proposal: Proposal, vote: ProposalVote) -> None:
    """The member who voted earns the matter's points for voting, when staff turned them on: once
    per household's vote (the vote is one row per household, and its key names it), in the vote's
    own transaction. A vote recorded in person for a member without an account pays nobody."""
    if proposal.vote_points <= 0 or vote.voter_id is None:
        return
    transfer = ledger.award(vote.voter, vote.voter, proposal.vote_points, "earn_participation",
                            f"proposal:{proposal.id}", f"proposal_vote:{vote.id}:participation",
                            memo=proposal.title)
    ProposalVote.update(transfer=transfer.id).where(ProposalVote.id == vote.id).execute()


def cast_vote(user, proposal_id: int, choice: str, now: datetime | None = None) -> ProposalVote:
    """A member of a verified household votes for the household (once)."""
    proposal = get_visible(user, proposal_id)
    household = household_of(user)
    if not concerns(proposal, household):
        raise DomainError(_("Only the verified households this matter concerns can vote."), status=403,
                          code="out_of_scope")
    return _cast(proposal, household, choice, user.id, user, "online", now or utcnow())


def record_in_person(staff, proposal_id: int, household_id: int, choice: str, now: datetime | None = None) -> ProposalVote:
    """Staff record a household's vote given in person (at the meeting, at the door)."""
    proposal = get_covered(staff, proposal_id)
    household = Household.get_or_none(Household.id == household_id)
    if household is None or not concerns(proposal, household):
        raise DomainError(_("Please choose one of the households this matter concerns."), field="household",
                          code="invalid")
    return _cast(proposal, household, choice, None, staff, "in_person", now or utcnow())


def household_vote(user, proposal: Proposal) -> ProposalVote | None:
    household = household_of(user)
    if household is None:
        return None
    return ProposalVote.get_or_none((ProposalVote.proposal == proposal.id) & (ProposalVote.household == household.id))


def tally(proposal: Proposal) -> thresholds.Tally:
    """The figures as they stand: households (and their areas) concerned, voted, for."""
    eligible = list(verified_households_in(proposal))
    voted_ids = {v.household_id: v.choice for v in ProposalVote.select(ProposalVote.household, ProposalVote.choice)
                 .where(ProposalVote.proposal == proposal.id)}
    ids = {h.id for h in eligible}
    for household in Household.select().where(Household.id.in_(list(set(voted_ids) - ids) or [0])):
        eligible.append(household)  # voted, then left the household: the vote stands
    area = {h.id: h.floor_area for h in eligible}
    area_counted = bool(eligible) and all(area[h.id] for h in eligible)
    yes = [h for h, c in voted_ids.items() if c == "yes"]
    return thresholds.Tally(
        eligible_households=len(eligible), voted_households=len(voted_ids), yes_households=len(yes),
        eligible_area=sum(area[h.id] or 0 for h in eligible) if area_counted else 0,
        voted_area=sum(area[h] or 0 for h in voted_ids) if area_counted else 0,
        yes_area=sum(area[h] or 0 for h in yes) if area_counted else 0, area_counted=area_counted)


def close_vote(staff, proposal_id: int, now: datetime | None = None) -> Proposal:
    """Counted once the period is over (or every household has voted), and frozen: the figures
    are stored on the matter and never counted again."""
    now = now or utcnow()
    proposal = get_covered(staff, proposal_id)
    if proposal.status != "voting":
        raise DomainError(_("This matter is not open for voting."), status=409, code="vote_closed")
    return _count(proposal, staff, now)


def _count(proposal: Proposal, actor, now: datetime) -> Proposal:
    """The count itself, for staff closing a vote and for the periodic job alike. The conditional
    UPDATE on the status is what makes it happen once: of two closers (two staff, two hosts
    running the job) the second finds the matter no longer voting and changes nothing."""
    with db.atomic():
        figures = tally(proposal)
        if now < proposal.vote_closes_at and figures.voted_households < figures.eligible_households:
            raise DomainError(_("The vote is open until %(when)s; it is counted then, or once every household has voted.",
                                when=proposal.vote_closes_at.strftime("%Y-%m-%d %H:%M")), status=409,
                              code="vote_still_open")
        outcome = thresholds.decide(rule_of(proposal), figures)
        no = ProposalVote.select().where((ProposalVote.proposal == proposal.id) & (ProposalVote.choice == "no")).count()
        _changed(proposal.id, "voting", status="passed" if outcome.passed else "rejected", counted_at=now,
                 vote_closes_at=min(now, proposal.vote_closes_at),
                 eligible_households=figures.eligible_households, eligible_area=figures.eligible_area,
                 area_counted=figures.area_counted, voted_households=figures.voted_households,
                 voted_area=figures.voted_area, yes_households=figures.yes_households, yes_area=figures.yes_area,
                 no_households=no, abstain_households=figures.voted_households - figures.yes_households - no)
        audit.record(actor, "proposals.vote.counted", proposal, passed=outcome.passed,
                     eligible=figures.eligible_households, voted=figures.voted_households, yes=figures.yes_households,
                     automatic=actor is None)
        _tell_result(proposal, outcome.passed, figures)
    return Proposal.get_by_id(proposal.id)


def _tell_result(proposal: Proposal, passed: bool, figures: thresholds.Tally) -> None:
    """The proposer and every verified member of the households concerned read the result (each
    in their own language: notify renders the lazy text so)."""
    values = {"title": proposal.title, "yes": figures.yes_households, "voted": figures.voted_households,
              "eligible": figures.eligible_households}
    text = (_l("The vote on “%(title)s” is counted: passed. %(voted)d of %(eligible)d households voted, "
               "%(yes)d for.", **values) if passed else
            _l("The vote on “%(title)s” is counted: not passed. %(voted)d of %(eligible)d households voted, "
               "%(yes)d for.", **values))
    members = (RoleGrant.select(RoleGrant.user).where(
        (RoleGrant.role == "resident") & RoleGrant.household.in_(households_in(proposal).select(Household.id))))
    users = User.select().where(User.id.in_(members) | (User.id == proposal.proposer_id)).order_by(User.id)
    for user in users:
        notify(user, "other", text, f"/proposals/{proposal.id}#vote")


def due_to_close(now: datetime):
    return Proposal.select().where((Proposal.status == "voting") & (Proposal.vote_closes_at <= now)).order_by(Proposal.id)


def close_due_votes(now: datetime | None = None) -> int:
    """The periodic job: every vote whose period has ended is counted, frozen and told, as staff
    closing it would. Safe on any number of hosts at once: a vote another run counted first is
    skipped. Returns how many this run counted."""
    now = now or utcnow()
    counted = 0
    for proposal in list(due_to_close(now)):
        try:
            _count(proposal, None, now)
        except DomainError as error:
            if error.code != "conflict":
                raise
            continue  # counted by another run a moment ago
        counted += 1
    return counted


def frozen_tally(proposal: Proposal) -> thresholds.Tally:
    return thresholds.Tally(proposal.eligible_households, proposal.voted_households, proposal.yes_households,
                            proposal.eligible_area or 0, proposal.voted_area or 0, proposal.yes_area or 0,
                            proposal.area_counted)


def figures_of(proposal: Proposal) -> dict | None:
    """What the pages show of a vote: the rule, the figures (frozen once counted, running while
    open) and what each test gave. Never who voted how."""
    if proposal.vote_opens_at is None:
        return None
    counted = proposal.counted_at is not None
    figures = frozen_tally(proposal) if counted else tally(proposal)
    outcome = thresholds.decide(rule_of(proposal), figures)
    return {"rule": rule_of(proposal), "tally": figures, "outcome": outcome, "counted": counted,
            "no": proposal.no_households if counted else None, "abstain": proposal.abstain_households if counted else None}
