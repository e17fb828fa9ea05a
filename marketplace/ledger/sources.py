"""What made each transfer, checked against it (part of `flask ledger verify`).

Every transfer is made by one thing the app records beside it: a voucher (its redemption, and the
settlement or refund that closed it), a staff adjustment, a confirmed request's payout, an event
attendance's pay, a residents' vote or meeting attendance paid for taking part, an approved hour correction's difference, a confirmed care visit's pay, points expiring, or a reversal of an earlier transfer. Each of those rows must agree with its
transfer (who, how much, which reference), and every transfer must have exactly one of them, so a
transfer forged with a correct hash but nothing behind it is found, and so is a voucher whose
holder, price, expiry or state was changed behind the app's back.
"""

from datetime import datetime, timedelta

from marketplace.ledger.models import REVERSIBLE_KINDS, Adjustment

# Rows written in the same transaction as their transfer carry a time read a moment apart.
SAME_MOMENT = timedelta(minutes=1)


def _near(a, b) -> bool:
    return isinstance(a, datetime) and isinstance(b, datetime) and abs(a - b) <= SAME_MOMENT


class _Sources:
    def __init__(self, report, chain):
        self.report, self.chain = report, chain
        self.claimed: dict[int, str] = {}  # transfer id -> the row that made it

    def fault(self, label: str, text: str) -> None:
        self.report.faults.append(f"{label}: {text}")

    def claim(self, label: str, transfer_id, kind: str, ref: str):
        """The transfer a row points at, if it is of the right kind and reference; else a fault."""
        row = self.chain.transfers.get(transfer_id)
        if row is None:
            self.fault(label, f"points at transfer id {transfer_id}, which does not exist")
            return None
        if row.kind != kind or row.ref != ref:
            self.fault(label, f"points at transfer seq {row.seq} ({row.kind} {row.ref!r}), not a {kind} for {ref!r}")
            return None
        if transfer_id in self.claimed:
            self.fault(label, f"transfer seq {row.seq} also belongs to {self.claimed[transfer_id]}")
            return None
        self.claimed[transfer_id] = label
        return row

    def code(self, account_id) -> str | None:
        return self.chain.accounts.get(account_id, (None,))[0]


def _vouchers(s: _Sources) -> None:
    from marketplace.settings import settings
    from marketplace.shop.models import VOUCHER_STATES, Voucher

    valid_days = timedelta(days=settings().voucher_valid_days, hours=1)
    for v in Voucher.select().order_by(Voucher.id).iterator():
        label = f"voucher {v.id}"
        try:
            redeem = s.claim(label, v.redeem_transfer_id, "redeem", f"offer:{v.offer_id}")
            if redeem is not None:
                if s.code(redeem.debit) != f"user:{v.holder_id}":
                    s.fault(label, f"holder is user {v.holder_id} but its redemption debited {s.code(redeem.debit)}")
                if v.price != redeem.amount:
                    s.fault(label, f"price {v.price!r} but its redemption moved {redeem.amount}")
                if not _near(v.created_at, redeem.created_at):
                    s.fault(label, f"created_at {v.created_at!r} is not when it was redeemed")
                if not isinstance(v.expires_at, datetime):
                    s.fault(label, f"expires_at {v.expires_at!r} is not a date and time")
                elif isinstance(redeem.created_at, datetime) and v.expires_at > redeem.created_at + valid_days:
                    # Later than the app ever sets it; earlier only ends it sooner and refunds it.
                    s.fault(label, f"expires_at {v.expires_at} does not fit its redemption on {redeem.created_at}")
            if v.status not in VOUCHER_STATES:
                s.fault(label, f"state {v.status!r} is not a voucher state")
                continue
            if v.status == "issued":
                if v.closing_transfer_id is not None or v.closed_at is not None:
                    s.fault(label, "is still issued but has a closing transfer or time")
                continue
            kind = "settle" if v.status == "used" else "refund"
            closing = s.claim(label, v.closing_transfer_id, kind, f"voucher:{v.id}")
            if closing is None:
                if v.closing_transfer_id is None:
                    s.fault(label, f"is {v.status} but has no closing transfer")
                continue
            if v.price != closing.amount:
                s.fault(label, f"price {v.price!r} but its {kind} moved {closing.amount}")
            if not _near(v.closed_at, closing.created_at):
                s.fault(label, f"closed_at {v.closed_at!r} is not when its {kind} was posted")
            if kind == "settle":
                if v.used_by_id != closing.actor:
                    s.fault(label, f"used by user {v.used_by_id} but its settlement was posted by user {closing.actor}")
                place = _partner_names(s).get(_offer_partner(s, v.offer_id))
                if place is not None and v.used_at_place != place[:100]:
                    s.fault(label, f"used at {v.used_at_place!r}, but its offer is {place!r}'s")
            elif v.used_by_id is not None or v.used_at_place:
                s.fault(label, f"is {v.status} but says where it was used")
            if kind == "refund":
                if closing.memo != v.status:
                    s.fault(label, f"is {v.status} but its refund was for '{closing.memo}'")
                if s.code(closing.credit) != f"user:{v.holder_id}":
                    s.fault(label, f"holder is user {v.holder_id} but the refund went to {s.code(closing.credit)}")
            if isinstance(v.expires_at, datetime) and isinstance(closing.created_at, datetime):
                if v.status == "used" and closing.created_at > v.expires_at:
                    s.fault(label, "was used after its expiry")
        except Exception as error:  # noqa: BLE001 - an unreadable value: name the row, go on
            s.fault(label, f"unreadable ({type(error).__name__}: {error})")
    # Every voucher transfer that is not claimed: its voucher row was removed or changed.
    for row in s.chain.transfers.values():
        if row.kind in ("settle", "refund") and row.id not in s.claimed and str(row.ref).startswith("voucher:"):
            voucher = Voucher.get_or_none(Voucher.id == _number(row.ref))
            if voucher is not None and voucher.status in ("used", "expired", "cancelled"):
                continue  # its own fault was named above
            s.fault(f"transfer seq {row.seq}", f"a {row.kind} for {row.ref} whose voucher is missing or still issued")


def _partner_names(s: _Sources) -> dict:
    if not hasattr(s, "partners"):
        from marketplace.partners.models import PartnerEnterprise

        s.partners = dict(PartnerEnterprise.select(PartnerEnterprise.id, PartnerEnterprise.name).tuples())
    return s.partners


def _offer_partner(s: _Sources, offer_id):
    if not hasattr(s, "offers"):
        from marketplace.shop.models import Offer

        s.offers = dict(Offer.select(Offer.id, Offer.partner).tuples())
    return s.offers.get(offer_id)


def _number(ref: str):
    tail = str(ref).rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def _audit_trail() -> dict:
    """What the audit chain says of each adjustment: action -> (actor, time, details)."""
    import json

    from marketplace.audit import AuditLog

    trail: dict = {}
    query = (AuditLog.select(AuditLog.object_id, AuditLog.action, AuditLog.actor, AuditLog.created_at, AuditLog.details)
             .where(AuditLog.object_type == "Adjustment", AuditLog.action.startswith("ledger.adjustment."))
             .order_by(AuditLog.id).tuples())
    for object_id, action, actor, at, details in query:
        try:
            details = json.loads(details)
        except (TypeError, ValueError):
            details = {}
        trail.setdefault(object_id, {})[action.rsplit(".", 1)[1]] = (actor, at, details)
    return trail


def _adjustment_vs_audit(s: _Sources, a, label: str, trail: dict) -> None:
    """Every adjustment is written to the audit chain when asked for and when decided; the row
    must say what the chain says (who, how much, which way, why, when)."""
    entries = trail.get(a.id, {})
    asked = entries.get("posted") or entries.get("pending")
    if asked is None:
        s.fault(label, "has no entry in the audit log: it was not made by the app")
        return
    actor, at, details = asked
    said = (details.get("account"), details.get("direction"), details.get("amount"), str(details.get("reason"))[:500])
    if (actor, said) != (a.requested_by_id, (s.code(a.account_id), a.direction, a.amount, a.reason)):
        s.fault(label, f"does not match its audit entry (requested by user {actor}, {said})")
    if not _near(a.created_at, at):
        s.fault(label, f"created_at {a.created_at!r} is not when the audit log recorded it")
    decision = {"posted": entries.get("approved") or (entries.get("posted") and (actor, at, {})),
                "rejected": entries.get("rejected"), "pending": None}.get(a.status)
    if a.status == "pending":
        if a.decided_by_id is not None or a.decided_at is not None or a.decision_note:
            s.fault(label, "is pending but says who decided it")
        return
    if decision is None:
        s.fault(label, f"is {a.status!r} but the audit log has no decision")
        return
    if a.decided_by_id != decision[0] or not _near(a.decided_at, decision[1]):
        s.fault(label, f"decided by user {a.decided_by_id} at {a.decided_at!r}; the audit log says user {decision[0]}")
    if a.status == "rejected" and decision[2].get("note") != a.decision_note:
        s.fault(label, "its decision note is not the one in the audit log")


def _adjustments(s: _Sources) -> None:
    trail = _audit_trail()
    for a in Adjustment.select().order_by(Adjustment.id).iterator():
        label = f"adjustment {a.id}"
        try:
            if a.status not in ("pending", "posted", "rejected"):
                s.fault(label, f"state {a.status!r} is not an adjustment state")
                continue
            _adjustment_vs_audit(s, a, label, trail)
            if a.status != "posted":
                if a.transfer_id is not None:
                    s.fault(label, f"is {a.status!r} but points at a transfer")
                continue
            row = s.claim(label, a.transfer_id, "adjust", f"adjustment:{a.id}")
            if row is None:
                continue
            if a.amount != row.amount or a.reason[:500] != row.memo or a.decided_by_id != row.actor:
                s.fault(label, f"amount {a.amount!r}, reason or approver do not match its transfer seq {row.seq}")
            target = row.credit if a.direction == "credit" else row.debit
            other = row.debit if a.direction == "credit" else row.credit
            if target != a.account_id or s.code(other) != "issuer":
                s.fault(label, f"a {a.direction!r} of account id {a.account_id!r} does not match its transfer "
                               f"({s.code(row.debit)} -> {s.code(row.credit)})")
        except Exception as error:  # noqa: BLE001
            s.fault(label, f"unreadable ({type(error).__name__}: {error})")


def _payouts(s: _Sources) -> None:
    from marketplace.events.models import Attendance
    from marketplace.ledger.policy import capped_request_points
    from marketplace.service_requests.models import ServiceRequest

    paid = list(ServiceRequest.select().where(ServiceRequest.payout.is_null(False)).order_by(ServiceRequest.id))
    held = capped_request_points([req.id for req in paid])  # an earning cap held back part of these
    for req in paid:
        label = f"request {req.id}"
        row = s.claim(label, req.payout_id, "earn_request", f"request:{req.id}")
        if row is None:
            continue
        payee = f"partner:{req.claimer_partner_id}" if req.claimer_partner_id else f"user:{req.claimer_id}"
        expected = req.points - held.get(req.id, 0) if isinstance(req.points, int) else req.points
        if s.code(row.credit) != payee or row.amount != expected:
            s.fault(label, f"its payout of {row.amount} to {s.code(row.credit)} does not match {req.points!r} "
                           f"points for {payee}")
    corrected = _corrections(s)
    for att in Attendance.select().where(Attendance.transfer.is_null(False)).order_by(Attendance.id).iterator():
        label = f"attendance {att.id}"
        row = s.claim(label, att.transfer_id, "earn_event", f"event:{att.event_id}")
        if row is None:
            continue
        # Its first pay, before approved hour corrections paid or took back their differences.
        first = att.points - corrected.get(att.id, 0) if isinstance(att.points, int) else att.points
        if s.code(row.credit) != f"user:{att.user_id}" or row.amount != first or row.key != f"attendance:{att.id}:pay":
            s.fault(label, f"its pay of {row.amount} to {s.code(row.credit)} does not match {att.points!r} points "
                           f"for user:{att.user_id}")


def _corrections(s: _Sources) -> dict:
    """Each approved hour correction and the transfer of its difference (events/corrections.py):
    more points from the issuer, fewer back to it, exactly new - old. Returns each attendance's
    net change, so its first pay can be checked."""
    from marketplace.events.models import Attendance, HourCorrection

    net: dict = {}
    query = HourCorrection.select().where(HourCorrection.status == "approved").order_by(HourCorrection.id)
    events = dict(Attendance.select(Attendance.id, Attendance.event)
                  .where(Attendance.id.in_(query.select(HourCorrection.attendance))).tuples())
    for c in query.iterator():
        label = f"hour correction {c.id}"
        try:
            difference = c.new_points - c.old_points
            net[c.attendance_id] = net.get(c.attendance_id, 0) + difference
            if difference == 0:
                if c.transfer_id is not None:
                    s.fault(label, "changed no points but points at a transfer")
                continue
            kind, ref = ("earn_event", f"event:{events.get(c.attendance_id)}") if difference > 0 else \
                ("adjust", f"correction:{c.id}")
            row = s.claim(label, c.transfer_id, kind, ref)
            if row is None:
                continue
            member = s.code(row.credit if difference > 0 else row.debit)
            if row.key != f"correction:{c.id}" or member != f"user:{c.user_id}" or row.amount != abs(difference):
                s.fault(label, f"its transfer seq {row.seq} of {row.amount} for {member} does not match "
                               f"{difference:+d} points for user:{c.user_id}")
        except Exception as error:  # noqa: BLE001
            s.fault(label, f"unreadable ({type(error).__name__}: {error})")
    return net


def _participation(s: _Sources) -> None:
    """Points for taking part in a residents' decision (proposals/participation.py): each
    `earn_participation` transfer is claimed by exactly one row, the household's vote that paid
    its voter or the meeting attendance it paid, and says the matter's points for it."""
    from marketplace.proposals.models import MeetingPay, Proposal, ProposalVote

    points = {pid: (vote, meeting) for pid, vote, meeting in
              Proposal.select(Proposal.id, Proposal.vote_points, Proposal.meeting_points).tuples()}
    votes = ProposalVote.select().where(ProposalVote.transfer.is_null(False)).order_by(ProposalVote.id)
    pays = [(f"proposal vote {v.id}", v.transfer_id, v.proposal_id, v.voter_id, 0,
             f"proposal_vote:{v.id}:participation", "voting") for v in votes.iterator()]
    pays += [(f"meeting pay {m.id}", m.transfer_id, m.proposal_id, m.user_id, 1,
              f"proposal:{m.proposal_id}:attendance:{m.attendance_id}", "attending")
             for m in MeetingPay.select().order_by(MeetingPay.id).iterator()]
    for label, transfer_id, proposal_id, user_id, which, key, what in pays:
        row = s.claim(label, transfer_id, "earn_participation", f"proposal:{proposal_id}")
        if row is None:
            continue
        expected = points.get(proposal_id, (None, None))[which]
        if s.code(row.credit) != f"user:{user_id}" or row.amount != expected or row.key != key:
            s.fault(label, f"its pay of {row.amount} to {s.code(row.credit)} does not match {expected!r} points "
                           f"for {what}, for user:{user_id}")


def _care_visits(s: _Sources) -> None:
    """Each care visit's pay (care.services): an `earn_care` transfer for `care_visit:<id>` from
    the issuer to the pair's volunteer, of the visit's points, made by a confirmed visit and by
    nothing else; a visit still due has no pay."""
    from marketplace.care.models import CarePair, CareVisit

    volunteers = dict(CarePair.select(CarePair.id, CarePair.volunteer).tuples())
    paid_or_owed = CareVisit.transfer.is_null(False) | ((CareVisit.state == "confirmed") & (CareVisit.points > 0))
    for v in CareVisit.select().where(paid_or_owed).order_by(CareVisit.id).iterator():
        label = f"care visit {v.id}"
        try:
            if v.transfer_id is None:
                s.fault(label, f"is confirmed for {v.points!r} points but has no pay")
                continue
            if v.state != "confirmed":
                s.fault(label, f"is {v.state!r} but points at a transfer")
            row = s.claim(label, v.transfer_id, "earn_care", f"care_visit:{v.id}")
            if row is None:
                continue
            volunteer = volunteers.get(v.pair_id)
            if (s.code(row.credit) != f"user:{volunteer}" or s.code(row.debit) != "issuer" or row.amount != v.points
                    or row.key != f"care_visit:{v.id}:pay"):
                s.fault(label, f"its pay of {row.amount} to {s.code(row.credit)} does not match {v.points!r} points "
                               f"for user:{volunteer}")
        except Exception as error:  # noqa: BLE001
            s.fault(label, f"unreadable ({type(error).__name__}: {error})")


def _expiries(s: _Sources) -> None:
    """Each expiry (ledger/policy.py) and its transfer back to the issuer: same account, amount, period."""
    from marketplace.ledger.models import PointsExpiry

    for e in PointsExpiry.select().where(PointsExpiry.stage == "expired").order_by(PointsExpiry.id).iterator():
        label = f"points expiry {e.id}"
        try:
            ref = f"expiry:{e.period_end.isoformat()}:{e.account_id}"
            if e.transfer_id is None:
                s.fault(label, "has no transfer")
                continue
            row = s.claim(label, e.transfer_id, "adjust", ref)
            if row is None:
                continue
            if row.debit != e.account_id or s.code(row.credit) != "issuer" or row.amount != e.amount or row.key != ref:
                s.fault(label, f"its transfer seq {row.seq} does not move {e.amount!r} points from account id "
                               f"{e.account_id} back to the issuer")
        except Exception as error:  # noqa: BLE001
            s.fault(label, f"unreadable ({type(error).__name__}: {error})")


def _reversals(s: _Sources) -> None:
    by_id = s.chain.transfers
    for row in by_id.values():
        if row.kind != "reversal":
            continue
        label = f"transfer seq {row.seq}"
        undone = by_id.get(row.reverses)
        if undone is None or row.ref != f"transfer:{undone.seq}" or undone.kind not in REVERSIBLE_KINDS:
            s.fault(label, f"a reversal of {row.ref!r} that does not point at a reversible transfer")
        elif (undone.debit, undone.credit, undone.amount) != (row.credit, row.debit, row.amount):
            s.fault(label, f"does not mirror transfer seq {undone.seq}, which it reverses")
        s.claimed[row.id] = label


def check(report, chain) -> None:
    s = _Sources(report, chain)
    _vouchers(s)
    _adjustments(s)
    _payouts(s)
    _participation(s)
    _care_visits(s)
    _expiries(s)
    _reversals(s)
    real = False  # the demo loader's awards come first, before anything real happened
    for row in chain.transfers.values():
        demo = row.kind == "earn_event" and row.ref == "demo"
        if demo and real:
            report.faults.append(f"transfer seq {row.seq}: a demo award after real transfers: forged")
            continue
        real = real or not demo
        if row.id in s.claimed or demo:
            continue
        if row.kind in ("settle", "refund"):
            continue  # named by the voucher check
        report.faults.append(f"transfer seq {row.seq}: a {row.kind} for {row.ref!r} that nothing in the app made "
                             "(no voucher, adjustment, payout, attendance, vote or care visit points at it)")
