"""Rules of the points mall: offers, flea-market listings, redeeming, scanning, refunds.

Points move only through the ledger: redeeming moves the price from the member to escrow and
issues a voucher; the shop's scan settles escrow -> shop (or -> the flea-market seller);
expiry or cancellation refunds escrow -> member. Each of these runs inside the ledger's lock,
so stock, per-person limits and "already used" are checked and acted on without a racer
slipping in between.
"""

import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN

from marketplace import access, audit
from marketplace.errors import DomainError
from marketplace.ledger import services as ledger
from marketplace.ledger.models import Account, Transfer
from marketplace.notifications.services import notify
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Grid, Household
from marketplace.proxy import services as proxy
from marketplace.settings import settings
from marketplace.shop.models import OFFER_CATEGORIES, Offer, Voucher
from marketplace.timeutil import utcnow
from marketplace.users.models import RoleGrant

# Unambiguous letters and digits (no 0/O, 1/I/L): 10 of them are 50 random bits, read aloud
# at a counter without mistakes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
LISTING_REVIEWERS = ("building_head", "grid_admin", "community_admin")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """What people type: lower case, spaces and dashes, or the whole URL from the QR code."""
    text = (raw or "").strip()
    if "code=" in text:
        text = text.split("code=", 1)[1].split("&", 1)[0]
    return "".join(ch for ch in text.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def _local_zone() -> ZoneInfo:
    return settings().timezone


def today_local() -> date:
    return datetime.now(_local_zone()).date()


def _end_of_local_day_utc(day: date) -> datetime:
    local_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=_local_zone())
    return local_end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


# ---- offers and listings -------------------------------------------------------------------


def _validate_offer_fields(fields: dict) -> dict:
    title = (fields.get("title") or "").strip()
    if not title:
        raise DomainError(_("Please give the offer a title."), field="title", code="invalid")
    if fields.get("category") not in OFFER_CATEGORIES:
        raise DomainError(_("Please choose a category."), field="category", code="invalid")
    price, stock, limit = fields.get("price"), fields.get("stock"), fields.get("per_person_limit")
    if not isinstance(price, int) or price <= 0:
        raise DomainError(_("The price must be a whole number of points above zero."), field="price", code="invalid")
    if not isinstance(stock, int) or stock < 0:
        raise DomainError(_("The stock must be zero or more."), field="stock", code="invalid")
    if limit is not None and (not isinstance(limit, int) or limit <= 0):
        raise DomainError(_("The limit per person must be 1 or more, or left empty."), field="per_person_limit",
                          code="invalid")
    valid_from, valid_until = fields.get("valid_from"), fields.get("valid_until")
    if not valid_from or not valid_until or valid_until < valid_from:
        raise DomainError(_("The last valid day cannot be before the first."), field="valid_until", code="invalid")
    return {
        "title": title[:100],
        "description": (fields.get("description") or "").strip(),
        "category": fields["category"],
        "price": price,
        "stock": stock,
        "per_person_limit": limit,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }


def create_partner_offer(staff_user, partner_id: int, fields: dict) -> Offer:
    partner = PartnerEnterprise.get_or_none(PartnerEnterprise.id == partner_id)
    if partner is None or not (partner_id in access.scope_of(staff_user).partners or access.scope_of(staff_user).everything):
        raise DomainError(_("This shop was not found."), status=404, code="not_found")
    values = _validate_offer_fields(fields)
    offer = Offer.create(community=partner.community_id, partner=partner, created_by=staff_user, status="active", **values)
    audit.record(staff_user, "shop.offer.created", offer, partner=partner.name)
    return offer


def create_flea_market_offer(staff_user, community_id: int, fields: dict) -> Offer:
    """An item the community itself sells at the flea market (points go to its flea-market account)."""
    if not access.scope_of(staff_user).administers(community_id):
        raise DomainError(_("This community was not found."), status=404, code="not_found")
    values = _validate_offer_fields(fields)
    offer = Offer.create(community=community_id, created_by=staff_user, status="active", **values)
    audit.record(staff_user, "shop.offer.created", offer, flea_market=True)
    return offer


def resident_community_id(user) -> int | None:
    grant = (
        RoleGrant.select(Grid.community)
        .join(Household, on=(RoleGrant.household == Household.id))
        .join(Building)
        .join(Grid)
        .where(RoleGrant.user == user.id, RoleGrant.role == "resident")
        .first()
    )
    return grant.household.building.grid.community_id if grant else None


def list_second_hand_item(user, fields: dict) -> Offer:
    """A verified resident offers a second-hand item at the flea market; staff review it."""
    community_id = resident_community_id(user)
    if community_id is None:
        raise DomainError(_("Only verified residents can sell at the flea market."), status=403, code="not_verified")
    values = _validate_offer_fields({**fields, "category": "second_hand"})
    return Offer.create(community=community_id, seller=user, created_by=user, status="pending", **values)


def _reviewable(staff, offer_id: int) -> Offer:
    offer = Offer.get_or_none(Offer.id == offer_id)
    communities = access.scope_of(staff).administered_community_ids()
    may = access.scope_of(staff).everything or (offer is not None and (
        offer.community_id in communities or _covers_seller(staff, offer)
    ))
    if offer is None or offer.seller_id is None or not may:
        raise DomainError(_("This listing was not found."), status=404, code="not_found")
    if offer.status != "pending":
        raise DomainError(_("This listing has already been reviewed."), status=409, code="already_reviewed")
    return offer


def _covers_seller(staff, offer: Offer) -> bool:
    homes = RoleGrant.select(RoleGrant.household).where(RoleGrant.user == offer.seller_id, RoleGrant.role == "resident")
    return access.scope_of(staff).households().where(Household.id.in_(homes)).exists()


def review_listing(staff, offer_id: int, approve: bool, note: str = "") -> Offer:
    note = (note or "").strip()
    if not approve and not note:
        raise DomainError(_("Please tell the seller why, so they can fix the listing."), field="reason", code="invalid")
    with ledger.ledger_transaction():
        offer = _reviewable(staff, offer_id)
        offer.status = "active" if approve else "rejected"
        offer.reviewed_by, offer.review_note = staff, note[:500]
        offer.save()
        audit.record(staff, "shop.listing.approved" if approve else "shop.listing.rejected", offer, note=note)
    return offer


def pending_listings(staff):
    if not access.has_role(staff, *LISTING_REVIEWERS):
        return Offer.select().where(Offer.id == 0)
    query = Offer.select().where(Offer.status == "pending", Offer.seller.is_null(False))
    if access.scope_of(staff).everything:
        return query.order_by(Offer.created_at)
    sellers = RoleGrant.select(RoleGrant.user).where(
        RoleGrant.role == "resident", RoleGrant.household.in_(access.scope_of(staff).households())
    )
    communities = access.scope_of(staff).administered_community_ids() or [0]
    return query.where(Offer.community.in_(communities) | Offer.seller.in_(sellers)).order_by(Offer.created_at)


def withdraw_offer(user, offer_id: int) -> Offer:
    """The seller (a shop's staff or the resident who listed it) takes an offer down. Vouchers
    already issued stay valid."""
    offer = Offer.get_or_none(Offer.id == offer_id)
    if offer is None or not _manages(user, offer):
        raise DomainError(_("This offer was not found."), status=404, code="not_found")
    Offer.update(status="withdrawn").where(Offer.id == offer.id).execute()
    audit.record(user, "shop.offer.withdrawn", offer)
    return Offer.get_by_id(offer.id)


def _manages(user, offer: Offer) -> bool:
    if offer.partner_id is not None:
        return offer.partner_id in access.scope_of(user).partners or access.scope_of(user).everything
    if offer.seller_id is not None and offer.seller_id == user.id:
        return True
    return access.scope_of(user).administers(offer.community_id)


def catalogue(shop: str | None = None, category: str | None = None):
    """Offers a member can redeem today. `shop` is a partner id or "flea" for the flea market."""
    today = today_local()
    query = (
        Offer.select(Offer, PartnerEnterprise)
        .join(PartnerEnterprise, JOIN.LEFT_OUTER, on=(Offer.partner == PartnerEnterprise.id))
        .where(Offer.status == "active", Offer.valid_from <= today, Offer.valid_until >= today)
    )
    if shop == "flea":
        query = query.where(Offer.partner.is_null())
    elif shop and shop.isdigit():
        query = query.where(Offer.partner == int(shop))
    if category in OFFER_CATEGORIES:
        query = query.where(Offer.category == category)
    return query.order_by(Offer.stock == 0, Offer.created_at.desc())


def may_see_offer(user, offer: Offer) -> bool:
    """A listing waiting for review is its seller's alone; every other offer is public (even
    withdrawn or sold out, so a link in an old voucher still opens). `user` None: a visitor."""
    return offer.status != "pending" or (user is not None and offer.seller_id == user.id)


def visible_offer(user, offer_id: int) -> Offer:
    """The offer page's and the API's offer, or 404 as if it did not exist."""
    offer = Offer.get_or_none(Offer.id == offer_id)
    if offer is None or not may_see_offer(user, offer):
        raise DomainError(_("This offer was not found."), status=404, code="not_found")
    return offer


def shop_name(offer: Offer) -> str:
    if offer.partner_id is not None:
        return offer.partner.name
    return _("Flea market")


# ---- vouchers ------------------------------------------------------------------------------


def redeem(user, offer_id: int, key: str, actor=None) -> Voucher:
    """Spend points on an offer: price -> escrow, stock - 1, a one-time voucher issued.
    `key` makes a double click or a network retry return the first voucher. With `actor`, staff
    in scope (or a linked family member) redeem for the user: recorded with both names
    (marketplace.proxy), the user told, the slip printable."""
    for_someone = actor is not None and actor.id != user.id
    # The actor's own keys: a key of theirs never replays the resident's own redeeming (or another's).
    key = (f"redeem:{user.id}:by:{actor.id}:{key}" if for_someone else f"redeem:{user.id}:{key}")[:100]
    with ledger.ledger_transaction():
        if for_someone:
            proxy.require(actor, user.id)
        earlier = Transfer.get_or_none(Transfer.idempotency_key == key)
        if earlier is not None:
            return Voucher.get(Voucher.redeem_transfer == earlier.id)
        offer = Offer.get_or_none(Offer.id == offer_id)
        today = today_local()
        if offer is None or offer.status not in ("active", "withdrawn"):
            raise DomainError(_("This offer was not found."), status=404, code="not_found")
        if offer.status != "active" or not (offer.valid_from <= today <= offer.valid_until):
            raise DomainError(_("This offer is not available now."), status=409, code="offer_unavailable")
        if offer.seller_id == user.id:
            raise DomainError(_("You cannot buy your own item."), status=409, code="own_offer")
        if offer.per_person_limit is not None:
            held = Voucher.select().where(
                Voucher.offer == offer.id, Voucher.holder == user.id, Voucher.status.in_(("issued", "used"))
            ).count()
            if held >= offer.per_person_limit:
                raise DomainError(
                    _("You already have %(count)d of this offer, the most one person may have.", count=held), status=409,
                    code="limit_reached",
                )
        # Conditional: the database never lets stock go below zero.
        if Offer.update(stock=Offer.stock - 1).where(Offer.id == offer.id, Offer.stock >= 1).execute() != 1:
            raise DomainError(_("Sorry, this offer is sold out."), status=409, code="sold_out")
        transfer = ledger.post_transfer(
            ledger.user_account(user), ledger.system_account("escrow"), offer.price, "redeem",
            f"offer:{offer.id}", key, actor if for_someone else user, memo=offer.title,
        )
        voucher = Voucher.create(
            offer=offer, holder=user, code=new_code(), price=offer.price, redeem_transfer=transfer,
            expires_at=min(utcnow() + timedelta(days=settings().voucher_valid_days),
                           _end_of_local_day_utc(offer.valid_until)),
        )
        if for_someone:
            proxy.record(actor, user, "redeem", note=offer.title, voucher=voucher)
        return voucher


def _close(voucher: Voucher, status: str, actor) -> Voucher:
    """Refund an unused voucher: escrow -> holder, stock + 1. Caller holds the ledger lock."""
    transfer = ledger.post_transfer(
        ledger.system_account("escrow"), Account.get(Account.user == voucher.holder_id), voucher.price, "refund",
        f"voucher:{voucher.id}", f"voucher:{voucher.id}:close", actor, memo=status,
    )
    Voucher.update(status=status, closing_transfer=transfer, closed_at=utcnow()).where(Voucher.id == voucher.id).execute()
    Offer.update(stock=Offer.stock + 1).where(Offer.id == voucher.offer_id).execute()
    if status == "expired":  # the member did not do this themselves: tell them
        notify(voucher.holder, "voucher", _l("Your voucher for %(offer)s expired; %(points)d points went back to your account.",
                                             offer=voucher.offer.title, points=voucher.price), f"/shop/vouchers/{voucher.id}")
    return Voucher.get_by_id(voucher.id)


def expire_if_due(voucher: Voucher) -> Voucher:
    """Lazily, whenever a voucher is looked at: past its time, it refunds itself."""
    if voucher.status != "issued" or voucher.expires_at > utcnow():
        return voucher
    with ledger.ledger_transaction():
        fresh = Voucher.get_by_id(voucher.id)
        if fresh.status == "issued" and fresh.expires_at <= utcnow():
            return _close(fresh, "expired", None)
        return fresh


def sweep_expired(now: datetime | None = None) -> int:
    """Refund every voucher past its time (`flask ledger sweep`). Returns how many."""
    now = now or utcnow()
    count = 0
    for voucher_id in [v.id for v in Voucher.select(Voucher.id).where(Voucher.status == "issued", Voucher.expires_at <= now)]:
        with ledger.ledger_transaction():
            voucher = Voucher.get_by_id(voucher_id)
            if voucher.status == "issued" and voucher.expires_at <= now:
                _close(voucher, "expired", None)
                count += 1
    return count


def _voucher_of(user, voucher_id: int) -> Voucher:
    """A voucher is its holder's alone: anyone else gets 404, as if it did not exist."""
    voucher = Voucher.get_or_none(Voucher.id == voucher_id)
    if voucher is None or user is None or voucher.holder_id != user.id:
        raise DomainError(_("This voucher was not found."), status=404, code="not_found")
    return voucher


def own_voucher(user, voucher_id: int) -> Voucher:
    """The holder's voucher for the voucher page and the API, refunded first if past its time."""
    return expire_if_due(_voucher_of(user, voucher_id))


def cancel_voucher(user, voucher_id: int) -> Voucher:
    with ledger.ledger_transaction():
        voucher = _voucher_of(user, voucher_id)
        if voucher.status != "issued":
            raise DomainError(_("This voucher can no longer be cancelled."), status=409, code="voucher_not_cancellable")
        voucher = _close(voucher, "cancelled", user)
    return voucher


def may_settle(user, offer: Offer) -> bool:
    """Who may take a voucher at the counter: the partner's staff; at the flea market the
    seller of the item, or the community's staff running it."""
    if access.scope_of(user).everything:
        return True
    if offer.partner_id is not None:
        return offer.partner_id in access.scope_of(user).partners
    if offer.seller_id == user.id:
        return True
    return access.scope_of(user).administers(offer.community_id) or (
        access.has_role(user, *LISTING_REVIEWERS) and _community_staff(user, offer.community_id)
    )


def _community_staff(user, community_id: int) -> bool:
    return (
        Household.select()
        .join(Building)
        .join(Grid)
        .where(Grid.community == community_id, Household.id.in_(access.scope_of(user).households()))
        .exists()
    )


def scan(user, raw_code: str) -> Voucher:
    """Settle a voucher at the counter: escrow -> the shop or the seller. A second scan moves
    nothing and says when and where the voucher was used."""
    code = normalize_code(raw_code)
    if len(code) != CODE_LENGTH:
        raise DomainError(_("A voucher code has 10 letters and digits; please check it."), field="code", code="invalid")
    found = Voucher.get_or_none(Voucher.code == code)
    if found is not None:
        expire_if_due(found)  # in its own transaction: the refund stands even though the scan is refused
    with ledger.ledger_transaction():
        voucher = Voucher.get_or_none(Voucher.code == code)
        if voucher is None:
            raise DomainError(_("No voucher has this code; please check it."), field="code", status=404,
                              code="voucher_not_found")
        offer = voucher.offer
        if not may_settle(user, offer):
            # Which shop issued it is the member's business, not the scanner's.
            raise DomainError(_("This voucher is not for your shop. Nothing was charged."),
                              field="code", status=403, code="voucher_other_shop")
        if voucher.status == "used":
            raise DomainError(
                _("This voucher was already used on %(when)s at %(place)s. Nothing was charged again.",
                  when=format_datetime(voucher.closed_at, "short"), place=voucher.used_at_place),
                field="code", status=409,
                code="voucher_already_used",
            )
        if voucher.status == "expired":
            raise DomainError(_("This voucher has expired; its points went back to the member."), field="code", status=409,
                              code="voucher_expired")
        if voucher.status == "cancelled":
            raise DomainError(_("This voucher was cancelled by the member."), field="code", status=409,
                              code="voucher_cancelled")
        if voucher.expires_at <= utcnow():  # expired a moment ago, after the check above
            raise DomainError(_("This voucher has expired; its points went back to the member."), field="code", status=409,
                              code="voucher_expired")
        if offer.partner_id is not None:
            payee = ledger.partner_account(offer.partner)
        elif offer.seller_id is not None:
            payee = ledger.user_account(offer.seller)
        else:
            payee = ledger.system_account("flea_market")
        transfer = ledger.post_transfer(
            ledger.system_account("escrow"), payee, voucher.price, "settle", f"voucher:{voucher.id}",
            f"voucher:{voucher.id}:close", user, memo=offer.title,
        )
        Voucher.update(
            status="used", closing_transfer=transfer, closed_at=transfer.created_at, used_by=user,
            used_at_place=shop_name(offer)[:100],
        ).where(Voucher.id == voucher.id).execute()
        notify(voucher.holder, "voucher", _l("Your voucher for %(offer)s was used at %(place)s.", offer=offer.title,
                                             place=shop_name(offer)), f"/shop/vouchers/{voucher.id}")
        return Voucher.get_by_id(voucher.id)


def escrow_faults() -> list[str]:
    """For `flask ledger verify`: escrow must hold exactly the price of every unused voucher."""
    escrow = Account.get_or_none(Account.code == "escrow")
    held = escrow.balance if escrow else 0
    owed = sum(v.price for v in Voucher.select(Voucher.price).where(Voucher.status == "issued"))
    if held != owed:
        return [f"escrow holds {held} points but unused vouchers are worth {owed}"]
    return []


def partner_settlement(community_ids: list[int] | None):
    """Points each shop received from vouchers, per local month: dicts with partner_id, shop,
    month, vouchers and points, newest month first."""
    from peewee import SQL, fn

    from marketplace.db import is_sqlite

    hours = int(datetime.now(_local_zone()).utcoffset().total_seconds() // 3600)
    if is_sqlite():
        month = fn.strftime("%Y-%m", Transfer.created_at, f"{hours:+d} hours")
    else:
        month = fn.to_char(Transfer.created_at + SQL(f"interval '{hours} hours'"), "YYYY-MM")
    query = (
        Transfer.select(PartnerEnterprise.id.alias("partner_id"), PartnerEnterprise.name.alias("shop"),
                        month.alias("month"), fn.COUNT(Transfer.id).alias("vouchers"),
                        fn.SUM(Transfer.amount).alias("points"))
        .join(Account, on=(Transfer.credit == Account.id))
        .join(PartnerEnterprise, on=(Account.partner == PartnerEnterprise.id))
        .where(Transfer.kind == "settle")
        .group_by(PartnerEnterprise.id, PartnerEnterprise.name, month)
        .order_by(month.desc(), PartnerEnterprise.name)
        .dicts()
    )
    if community_ids is not None:
        query = query.where(PartnerEnterprise.community.in_(community_ids or [0]))
    return query
