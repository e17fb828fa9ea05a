"""Whose accounts a person may see: their own, their shop's, and the staff's scope."""

from marketplace import access
from marketplace.ledger.models import Account
from marketplace.partners.models import PartnerEnterprise
from marketplace.users.models import RoleGrant

SEES_EVERY_ACCOUNT = ("admin", "street_officer")


def accounts_in_staff_scope(staff):
    """Accounts of the members living in the staff member's households, of the volunteers and
    partners of the communities they administer; everything for admins and street officers."""
    if access.has_role(staff, *SEES_EVERY_ACCOUNT):
        return Account.select()
    residents = RoleGrant.select(RoleGrant.user).where(
        (RoleGrant.role == "resident") & RoleGrant.household.in_(access.household_ids_in_scope(staff))
    )
    communities = access.community_ids_administered(staff) or [0]
    volunteers = RoleGrant.select(RoleGrant.user).where(
        (RoleGrant.role == "volunteer") & RoleGrant.community.in_(communities)
    )
    partners = PartnerEnterprise.select(PartnerEnterprise.id).where(PartnerEnterprise.community.in_(communities))
    return Account.select().where(
        Account.user.in_(residents) | Account.user.in_(volunteers) | Account.partner.in_(partners)
    )


def partner_ids_staffed_by(user) -> list[int]:
    return [grant.partner_id for grant in access.grants(user) if grant.role == "partner_staff"]


def can_view(user, account: Account) -> bool:
    if account.user_id == user.id or account.partner_id in partner_ids_staffed_by(user):
        return True
    if not access.is_staff(user):
        return False
    if account.kind in ("issuer", "escrow", "flea_market"):
        return access.has_role(user, "community_admin", *SEES_EVERY_ACCOUNT)
    return accounts_in_staff_scope(user).where(Account.id == account.id).exists()
