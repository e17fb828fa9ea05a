"""Invitations for a partner enterprise's staff: a one-time link the community hands to the shop."""

import secrets
from datetime import timedelta

from flask_babel import gettext as _

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.partners.models import PartnerEnterprise
from marketplace.timeutil import utcnow
from marketplace.users.accounts import _sha256
from marketplace.users.models import (
    PartnerInvite,
    RoleGrant,
    User,
)

INVITE_VALID_FOR = timedelta(days=7)


# ---- partner staff invitations --------------------------------------------------------------


def invite_partner_staff(staff: User, partner_id: int, note: str) -> str:
    """Returns the one-time token; only its hash is stored, so the link is shown once."""
    partner = PartnerEnterprise.get_or_none(PartnerEnterprise.id == partner_id)
    if partner is None or not access.scope_of(staff).administers(partner.community_id):
        raise DomainError(_("This partner was not found."), status=404, code="not_found")
    token = secrets.token_urlsafe(24)
    with db.atomic():
        invite = PartnerInvite.create(
            partner=partner,
            token_hash=_sha256(token),
            note=(note or "").strip()[:100],
            created_by=staff,
            expires_at=utcnow() + INVITE_VALID_FOR,
        )
        audit.record(staff, "partners.invite.created", invite, partner=partner.id)
    return token


def find_invite(token: str) -> PartnerInvite:
    invite = PartnerInvite.get_or_none(PartnerInvite.token_hash == _sha256(token or ""))
    if invite is None or invite.revoked:
        raise DomainError(_("This invitation link is not valid. Please ask the community office for a new one."), status=404,
                          code="not_found")
    if invite.used_at is not None:
        raise DomainError(_("This invitation has already been used."), status=410, code="invitation_used")
    if invite.expires_at < utcnow():
        raise DomainError(_("This invitation has expired. Please ask the community office for a new one."), status=410,
                          code="invitation_expired")
    return invite


def accept_invite(user: User, token: str) -> PartnerEnterprise:
    with db.atomic():
        invite = find_invite(token)
        # The conditional update makes the link single-use even if two people open it at once.
        claimed = (
            PartnerInvite.update(used_by=user, used_at=utcnow())
            .where(PartnerInvite.id == invite.id, PartnerInvite.used_at.is_null())
            .execute()
        )
        if claimed != 1:
            raise DomainError(_("This invitation has already been used."), status=410, code="invitation_used")
        already = RoleGrant.select().where(
            RoleGrant.user == user.id, RoleGrant.role == "partner_staff", RoleGrant.partner == invite.partner_id
        )
        if not already.exists():
            RoleGrant.create(user=user, role="partner_staff", partner=invite.partner_id, granted_by=invite.created_by_id)
        audit.record(user, "partners.invite.accepted", invite, partner=invite.partner_id)
        return invite.partner
