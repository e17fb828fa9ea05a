"""What care keeps about one person, for their rights (PIPL): their copy of it
(rights.services) and what closing their account does to it (rights.closing)."""

from marketplace.care.models import CarePair, CareVisit, KeyGroupMember
from marketplace.timeutil import utcnow


def personal_data_of(person) -> dict:
    """What care keeps about a person, for their copy (PIPL Art. 45): their places in the
    key-group register with what staff wrote there (the person may read it), the pairs they are
    in, and the visits. The other side of a pair is named by part ("your volunteer", "the
    resident you visit"), never by name: the copy holds no one else's data."""
    in_register = KeyGroupMember.select().where(KeyGroupMember.resident == person.id).order_by(KeyGroupMember.id)
    pairs = (CarePair.select(CarePair, KeyGroupMember).join(KeyGroupMember)
             .where((KeyGroupMember.resident == person.id) | (CarePair.volunteer == person.id)).order_by(CarePair.id))
    pair_ids = [p.id for p in pairs]
    visits = (CareVisit.select().where(CareVisit.pair.in_(pair_ids)).order_by(CareVisit.due_on, CareVisit.id)
              if pair_ids else [])
    return {
        "register": [{"group": m.key_group, "note": m.note, "since": m.created_at.isoformat()} for m in in_register],
        "pairs": [{"id": p.id, "as": "resident" if p.member.resident_id == person.id else "volunteer",
                   "frequency": p.frequency, "starts_on": p.starts_on.isoformat(), "state": p.state,
                   "minutes": p.minutes, "points": p.points} for p in pairs],
        "visits": [{"pair": v.pair_id, "due_on": v.due_on.isoformat(), "state": v.state, "method": v.method,
                    "minutes": v.minutes, "points": v.points} for v in visits],
    }


def close_for(person) -> None:
    """An account closing (rights.closing, in its transaction): the person's pairs end, as a
    resident or as a volunteer, and their visits not yet made go; the register keeps no
    sensitive fact about them (their rows go, or one stays as "other" with no note). Confirmed
    visits stay: each is what claims its `earn_care` transfer, which `ledger verify` must still
    find."""
    members = KeyGroupMember.select(KeyGroupMember.id).where(KeyGroupMember.resident == person.id)
    pairs = CarePair.select(CarePair.id).where(CarePair.member.in_(members) | (CarePair.volunteer == person.id))
    CareVisit.delete().where(CareVisit.pair.in_(pairs), CareVisit.state == "due").execute()
    CareVisit.update(note="").where(CareVisit.pair.in_(pairs)).execute()
    CarePair.update(state="ended", changed_at=utcnow()).where(
        CarePair.id.in_(pairs), CarePair.state != "ended").execute()
    # One register row may stay, for the confirmed visits' pairs to hang on, in the group that
    # says nothing ("other"; one row per group, so the others go, with their pairs if unpaid).
    paid = {pair.member_id for pair in CarePair.select(CarePair.member).join(CareVisit).where(
        CarePair.member.in_(members), CareVisit.state == "confirmed")}
    if paid:
        keeper = min(paid)
        CarePair.update(member=keeper).where(CarePair.member.in_(list(paid))).execute()
        KeyGroupMember.delete().where(KeyGroupMember.resident == person.id, KeyGroupMember.id != keeper).execute()
        KeyGroupMember.update(key_group="other", note="").where(KeyGroupMember.id == keeper).execute()
    else:
        KeyGroupMember.delete().where(KeyGroupMember.resident == person.id).execute()
