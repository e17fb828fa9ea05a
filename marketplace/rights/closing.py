"""Closing an account (PIPL Art. 47: the right to have one's personal information deleted).

In this order, so that nobody is left waiting on a person who is gone:

1. open matters are settled: requests still open or taken are cancelled, jobs the person took
   are given back, issued vouchers are cancelled (their points come back first), sign-ups for
   events still to come are cancelled. A request done but not yet confirmed, or disputed, needs
   the person's or staff's answer first: closing is refused, naming it.
2. the remaining balance goes back to the community by a ledger transfer
   (`ledger.adjustments.close_out`); the person sees the amount on the page before confirming.
3. personal data is anonymised in one transaction: name, phone number, password, sessions and
   tokens, household and roles, free texts they wrote (request descriptions, comments, notes,
   volunteer availability), photos (their requests', their proposals' and the progress updates
   they posted), messages and their deliveries, message preferences, family links, and their
   place in the key-group register (care pairs end; care.services.close_for).

What stays: the account's number, every transfer and total of the ledger (so `ledger verify`
stays clean), the matters' states and timelines (the board's figures), and the audit chain.
Staff in scope may do it for a resident who asks in person; both ways are audited.
"""

import secrets

from flask_babel import gettext as _

from marketplace import access, audit
from marketplace.care import personal as care
from marketplace.errors import DomainError
from marketplace.events.models import Event, Signup
from marketplace.ledger import adjustments
from marketplace.ledger.models import Account
from marketplace.ledger.services import ledger_transaction
from marketplace.notifications.models import CallTask, MessagePreference, Notification
from marketplace.proposals.models import Proposal, ProposalUpdate
from marketplace.proxy.models import FamilyLink
from marketplace.service_requests.models import RequestEvent, ServiceRequest
from marketplace.settings import settings
from marketplace.shop.models import Voucher
from marketplace.timeutil import utcnow
from marketplace.users.models import (
    STAFF_ROLES,
    ApiToken,
    LoginSession,
    ResidencyApplication,
    RoleGrant,
    User,
    VolunteerApplication,
    VolunteerSkill,
)

CLOSED_NAME = "已注销用户"
WAITING_ON_AN_ANSWER = ("done", "disputed")


def closed_phone(user_id: int) -> str:
    """A placeholder that keeps the column unique and can never be a mobile number (it starts with 0)."""
    return f"0{user_id:010d}"


def is_closed(user: User) -> bool:
    return user.phone == closed_phone(user.id)


def _may_close(actor: User, person_id: int) -> User:
    if actor.id == person_id:
        person = User.get_by_id(person_id)
        if access.has_role(person, *STAFF_ROLES):
            raise DomainError(_("A staff account is closed by an administrator."), status=403, code="staff_account")
        return person
    from marketplace.users import roles

    person = roles.person_in_scope(actor, person_id)
    if not roles.may_set_active(actor, person):
        raise DomainError(_("Only an administrator can close this account."), status=403, code="admins_only")
    return person


def preview(actor: User, person_id: int) -> dict:
    """What closing would do, for the confirmation page: the balance that goes to the
    community, and the matters that would be cancelled or that block it."""
    person = _may_close(actor, person_id)
    account = Account.get_or_none(Account.user == person.id)
    mine = ServiceRequest.select().where(ServiceRequest.resident == person.id)
    return {
        "person": person,
        "balance": account.balance if account else 0,
        "to_cancel": mine.where(ServiceRequest.state.in_(("open", "claimed"))).count(),
        "blocking": [r.id for r in mine.where(ServiceRequest.state.in_(WAITING_ON_AN_ANSWER))],
        "vouchers": Voucher.select().where(Voucher.holder == person.id, Voucher.status == "issued").count(),
    }


def _settle_open_matters(actor: User, person: User) -> None:
    from marketplace.events import signups
    from marketplace.service_requests import services as requests
    from marketplace.shop import services as shop

    reason = _("The account was closed.")
    mine = ServiceRequest.select(ServiceRequest.id).where(ServiceRequest.resident == person.id)
    for req in mine.where(ServiceRequest.state.in_(("open", "claimed"))):
        requests.cancel(person, req.id, reason)
    for req in ServiceRequest.select(ServiceRequest.id).where(
            (ServiceRequest.claimer == person.id) & (ServiceRequest.state == "claimed")):
        requests.release(person, req.id, reason)
    for voucher in Voucher.select(Voucher.id).where(Voucher.holder == person.id, Voucher.status == "issued"):
        shop.cancel_voucher(person, voucher.id)
    coming = (Signup.select(Signup, Event).join(Event)
              .where(Signup.user == person.id, Signup.status != "cancelled", Event.starts_at > utcnow()))
    for signup in coming:
        try:
            signups.cancel_signup(person, signup.event_id)
        except DomainError:
            pass  # already checked in: nothing left to give back


def _anonymise(person: User) -> list[str]:
    """Blank the person's data; returns the photo files to delete once this has committed."""
    photos = [r.photo for r in ServiceRequest.select(ServiceRequest.photo).where(
        ServiceRequest.resident == person.id, ServiceRequest.photo.is_null(False))]
    # The matters the residents decide together (proposals): the photos of the person's proposals
    # and of the progress updates they posted go, files and all. None of them is on the public
    # board (it shows the matter's words and figures, never a photo), so none must stay. The
    # proposal's title and text stay: they are the building's record of what the households
    # decided, read by every household concerned; the proposer is the closed account, which
    # names no one.
    photos += [p.photo for p in Proposal.select(Proposal.photo).where(
        (Proposal.proposer == person.id) & Proposal.photo.is_null(False))]
    photos += [u.photo for u in ProposalUpdate.select(ProposalUpdate.photo).where(
        (ProposalUpdate.created_by == person.id) & ProposalUpdate.photo.is_null(False))]
    Proposal.update(photo=None).where(Proposal.proposer == person.id).execute()
    ProposalUpdate.update(photo=None).where(ProposalUpdate.created_by == person.id).execute()
    User.update(phone=closed_phone(person.id), display_name=CLOSED_NAME, locale=None, active=False,
                password_hash="!closed:" + secrets.token_hex(16)).where(User.id == person.id).execute()
    LoginSession.delete().where(LoginSession.user == person.id).execute()
    ApiToken.delete().where(ApiToken.user == person.id).execute()
    RoleGrant.delete().where(RoleGrant.user == person.id).execute()
    ResidencyApplication.delete().where(ResidencyApplication.user == person.id).execute()
    VolunteerSkill.delete().where(VolunteerSkill.user == person.id).execute()
    VolunteerApplication.update(availability="", reason="").where(VolunteerApplication.user == person.id).execute()
    ServiceRequest.update(description="", rating_comment="", photo=None).where(
        ServiceRequest.resident == person.id).execute()
    RequestEvent.update(note="").where(RequestEvent.actor == person.id).execute()
    CallTask.update(note="").where(CallTask.resident == person.id).execute()
    Notification.delete().where(Notification.user == person.id).execute()  # deliveries go with them
    MessagePreference.delete().where(MessagePreference.user == person.id).execute()
    FamilyLink.delete().where((FamilyLink.resident == person.id) | (FamilyLink.family == person.id)).execute()
    care.close_for(person)
    return photos


def close_account(actor: User, person_id: int) -> User:
    """Close `person_id`'s account (the person's own, or a resident's by staff in scope).

    All of it in one transaction holding the ledger's lock, so two clicks, or the person and a
    staff member at once, close it once: the second finds it closed and changes nothing."""
    with ledger_transaction():
        person = _may_close(actor, person_id)
        if is_closed(person):
            return person
        blocking = [r.id for r in ServiceRequest.select(ServiceRequest.id).where(
            ServiceRequest.resident == person.id, ServiceRequest.state.in_(WAITING_ON_AN_ANSWER))]
        if blocking:
            raise DomainError(_("Request no. %(id)d is waiting for a confirmation or for staff: please settle it "
                                "before closing the account.", id=blocking[0]), status=409, code="matters_open")
        _settle_open_matters(actor, person)
        account = Account.get_or_none(Account.user == person.id)
        if account is not None:
            adjustments.close_out(actor, account, _("Account closed: the remaining points go back to the community fund."))
        photos = _anonymise(person)
        audit.record(actor, "users.account.closed", person)
    folder = settings().upload_folder
    for name in photos:
        (folder / name).unlink(missing_ok=True)
    return User.get_by_id(person.id)


def close_own_account(user: User, password: str) -> User:
    """Closing one's own account from an app: the password again, as on the page (where a
    password typed in the last 15 minutes is asked for)."""
    from marketplace.users import passwords

    if not passwords.verify_password(User.get_by_id(user.id).password_hash, password or ""):
        raise DomainError(_("Your current password is not right."), "password", code="wrong_password")
    return close_account(user, user.id)
