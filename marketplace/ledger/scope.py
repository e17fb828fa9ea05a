"""Whose accounts a person may see: their own, their shop's, and the staff's scope."""

from marketplace import access
from marketplace.ledger.models import Account
from marketplace.partners.models import PartnerEnterprise
from marketplace.users.models import RoleGrant


def accounts_in_staff_scope(staff):
    """Accounts of the members living in the staff member's households, of the volunteers and
    partners of the communities they administer; everything for admins and street officers."""
    scope = access.scope_of(staff)
    if scope.street_wide:
        return Account.select()
    residents = RoleGrant.select(RoleGrant.user).where(
        (RoleGrant.role == "resident") & RoleGrant.household.in_(scope.households())
    )
    communities = scope.administered_community_ids() or [0]
    volunteers = RoleGrant.select(RoleGrant.user).where(
        (RoleGrant.role == "volunteer") & RoleGrant.community.in_(communities)
    )
    partners = PartnerEnterprise.select(PartnerEnterprise.id).where(PartnerEnterprise.community.in_(communities))
    return Account.select().where(
        Account.user.in_(residents) | Account.user.in_(volunteers) | Account.partner.in_(partners)
    )


def can_view(user, account: Account) -> bool:
    scope = access.scope_of(user)
    if account.user_id == user.id or scope.staffs_partner(account.partner_id):
        return True
    if not scope.is_staff:
        return False
    if account.kind in ("issuer", "escrow", "flea_market"):
        return scope.street_wide or bool(scope.communities)
    return accounts_in_staff_scope(user).where(Account.id == account.id).exists()
