"""Rules for partner enterprises."""

import peewee as pw
from flask_babel import gettext as _

from marketplace import access, audit
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.ledger import services as ledger
from marketplace.partners.models import PartnerEnterprise


def create_partner(staff, community_id: int, name: str, business: str, contact_phone: str, address: str):
    if not access.scope_of(staff).administers(community_id):
        raise DomainError(_("Please choose a community you administer."), "community", code="invalid")
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Please give the enterprise's name."), "name", code="invalid")
    try:
        with db.atomic():
            partner = PartnerEnterprise.create(
                community=community_id,
                name=name,
                business=(business or "").strip(),
                contact_phone=(contact_phone or "").strip(),
                address=(address or "").strip(),
            )
            ledger.partner_account(partner)  # ready to receive points from vouchers and jobs
            audit.record(staff, "partners.partner.created", partner, name=name)
            return partner
    except pw.IntegrityError:
        raise DomainError(_("A partner with this name already exists."), "name", code="name_taken") from None


def partners_in_scope(staff):
    return PartnerEnterprise.select().where(
        PartnerEnterprise.community.in_(access.scope_of(staff).administered_community_ids() or [0])
    ).order_by(PartnerEnterprise.name)


def get_partner_in_scope(staff, partner_id: int) -> PartnerEnterprise:
    partner = partners_in_scope(staff).where(PartnerEnterprise.id == partner_id).first()
    if partner is None:
        raise DomainError(_("This partner was not found."), status=404, code="not_found")
    return partner
