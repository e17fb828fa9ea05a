"""民评: when the action is done, each household concerned rates it once (1–5 and a comment)."""

from datetime import datetime
from fractions import Fraction

from flask_babel import gettext as _

from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.proposals.models import Proposal, ProposalEvaluation
from marketplace.proposals.services import concerns, get_visible, household_of
from marketplace.timeutil import utcnow


def evaluate(user, proposal_id: int, rating: int, comment: str = "", now: datetime | None = None) -> ProposalEvaluation:
    proposal = get_visible(user, proposal_id)
    household = household_of(user)
    if not concerns(proposal, household):
        raise DomainError(_("Only the households this matter concerns can evaluate it."), status=403,
                          code="out_of_scope")
    if proposal.status != "done":
        raise DomainError(_("The matter is evaluated once the work is done."), status=409, code="not_allowed")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError(_("Please choose 1 to 5 stars."), field="rating", code="invalid")
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise DomainError(_("Please keep this under %(most)d characters.", most=500), field="comment", code="invalid")
    with db.atomic():
        query = ProposalEvaluation.insert(proposal=proposal.id, household=household.id, user=user.id, rating=rating,
                                          comment=comment, created_at=now or utcnow())
        if db.execute(query.on_conflict_ignore()).rowcount != 1:
            raise DomainError(_("Your household has already evaluated this matter."), status=409,
                              code="already_evaluated")
    return ProposalEvaluation.get((ProposalEvaluation.proposal == proposal.id)
                                  & (ProposalEvaluation.household == household.id))


def household_evaluation(user, proposal: Proposal) -> ProposalEvaluation | None:
    household = household_of(user)
    if household is None:
        return None
    return ProposalEvaluation.get_or_none((ProposalEvaluation.proposal == proposal.id)
                                          & (ProposalEvaluation.household == household.id))


def summary(proposal: Proposal) -> dict:
    """How many households rated it, the average (one decimal) and the comments, without names."""
    rows = list(ProposalEvaluation.select().where(ProposalEvaluation.proposal == proposal.id)
                .order_by(ProposalEvaluation.id))
    average = Fraction(sum(r.rating for r in rows), len(rows)) if rows else None
    return {"count": len(rows), "average": f"{float(average):.1f}" if average is not None else None,
            "comments": [r.comment for r in rows if r.comment]}
