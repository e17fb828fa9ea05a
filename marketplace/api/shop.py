"""The points mall: offers, redeeming, my vouchers, and the shop's counter."""

from flask_babel import lazy_gettext as _l

from marketplace.access import PUBLIC, SIGNED_IN
from marketplace.api.auth import per_user_key
from marketplace.api.registry import component, config_limit, operation, page_of
from marketplace.api.schema import Fields, FromForm, String, iso
from marketplace.errors import DomainError
from marketplace.pagination import paginate
from marketplace.shop import services
from marketplace.shop.forms import CATEGORY_LABELS, ScanForm
from marketplace.shop.models import OFFER_CATEGORIES, OFFER_STATES, VOUCHER_STATES, Offer, Voucher

OFFER = component("Offer", {
    "type": "object",
    "required": ["id", "title", "description", "category", "category_label", "shop", "price", "stock",
                 "per_person_limit", "valid_from", "valid_until", "status"],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "category": {"type": "string", "enum": list(OFFER_CATEGORIES)},
        "category_label": {"type": "string"},
        "shop": {"type": "string", "description": "The partner shop, or the flea market."},
        "price": {"type": "integer", "description": "In points."},
        "stock": {"type": "integer"},
        "per_person_limit": {"type": ["integer", "null"]},
        "valid_from": {"type": "string", "format": "date"},
        "valid_until": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": list(OFFER_STATES)},
    },
})
OFFER_PAGE = component("OfferPage", page_of(OFFER))
VOUCHER = component("Voucher", {
    "type": "object",
    "required": ["id", "offer_id", "title", "shop", "code", "price", "status", "created_at", "expires_at",
                 "closed_at", "used_at_place"],
    "properties": {
        "id": {"type": "integer"},
        "offer_id": {"type": "integer"},
        "title": {"type": "string"},
        "shop": {"type": "string"},
        "code": {"type": "string", "description": "Show it (or its QR) at the counter; 10 letters and digits."},
        "price": {"type": "integer"},
        "status": {"type": "string", "enum": list(VOUCHER_STATES)},
        "created_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"},
        "closed_at": {"type": ["string", "null"], "format": "date-time"},
        "used_at_place": {"type": "string"},
    },
})
VOUCHER_PAGE = component("VoucherPage", page_of(VOUCHER))
SETTLED = component("SettledVoucher", {
    "type": "object", "required": ["id", "title", "price", "status", "closed_at", "used_at_place"],
    "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "price": {"type": "integer"},
        "status": {"type": "string", "enum": ["used"]}, "closed_at": {"type": "string", "format": "date-time"},
        "used_at_place": {"type": "string"},
    },
})


def offer_json(offer: Offer) -> dict:
    return {
        "id": offer.id, "title": offer.title, "description": offer.description, "category": offer.category,
        "category_label": str(CATEGORY_LABELS[offer.category]), "shop": services.shop_name(offer),
        "price": offer.price, "stock": offer.stock, "per_person_limit": offer.per_person_limit,
        "valid_from": offer.valid_from.isoformat(), "valid_until": offer.valid_until.isoformat(),
        "status": offer.status,
    }


def voucher_json(voucher: Voucher) -> dict:
    offer = voucher.offer
    return {
        "id": voucher.id, "offer_id": offer.id, "title": offer.title, "shop": services.shop_name(offer),
        "code": services.format_code(voucher.code), "price": voucher.price, "status": voucher.status,
        "created_at": iso(voucher.created_at), "expires_at": iso(voucher.expires_at),
        "closed_at": iso(voucher.closed_at), "used_at_place": voucher.used_at_place,
    }


@operation("GET", "/offers", summary="Offers that can be redeemed today", tag="shop", allow=(PUBLIC,),
           response=OFFER_PAGE, paginated=True,
           query=Fields(shop=String(_l("A partner's id, or “flea” for the flea market."), pattern=r"^(flea|[0-9]{1,9})$"),
                        category=String(_l("Only this category."), enum=list(OFFER_CATEGORIES))))
def offers(user, shop, category, cursor, limit):
    """Newest first."""
    rows, next_cursor = paginate(services.catalogue(shop, category), [(Offer.id, "desc")], cursor, limit)
    return {"items": [offer_json(o) for o in rows], "next_cursor": next_cursor}


def _offer(user, offer_id) -> Offer:
    offer = Offer.get_or_none(Offer.id == offer_id)
    if offer is None or offer.status == "pending" and (user is None or offer.seller_id != user.id):
        from flask_babel import gettext as _

        raise DomainError(_("This offer was not found."), status=404, code="not_found")
    return offer


@operation("GET", "/offers/<int:offer_id>", summary="One offer", tag="shop", allow=(PUBLIC,), response=OFFER)
def offer(user, offer_id):
    return offer_json(_offer(user, offer_id))


@operation("POST", "/offers/<int:offer_id>/redeem", summary="Redeem an offer for a voucher", tag="shop",
           allow=(SIGNED_IN,), scope="shop", response=VOUCHER, status=201, errors=(409,), key_required=True)
def redeem(user, offer_id):
    """The price moves from the caller's points to escrow and a one-time voucher is issued. The
    Idempotency-Key header is required here: the ledger uses it, so a retry returns the first
    voucher and never spends twice."""
    from flask import request

    voucher = services.redeem(user, offer_id, request.headers["Idempotency-Key"])
    return voucher_json(voucher)


@operation("GET", "/vouchers", summary="My vouchers", tag="shop", allow=(SIGNED_IN,), scope="read",
           response=VOUCHER_PAGE, paginated=True)
def vouchers(user, cursor, limit):
    """Newest first. Vouchers past their time are refunded as they are read."""
    query = Voucher.select().where(Voucher.holder == user.id)
    rows, next_cursor = paginate(query, [(Voucher.id, "desc")], cursor, limit)
    return {"items": [voucher_json(services.expire_if_due(v)) for v in rows], "next_cursor": next_cursor}


def _mine(user, voucher_id) -> Voucher:
    voucher = Voucher.get_or_none(Voucher.id == voucher_id)
    if voucher is None or voucher.holder_id != user.id:
        from flask_babel import gettext as _

        raise DomainError(_("This voucher was not found."), status=404, code="not_found")
    return services.expire_if_due(voucher)


@operation("GET", "/vouchers/<int:voucher_id>", summary="One of my vouchers", tag="shop", allow=(SIGNED_IN,),
           scope="read", response=VOUCHER)
def voucher(user, voucher_id):
    return voucher_json(_mine(user, voucher_id))


@operation("POST", "/vouchers/<int:voucher_id>/cancel", summary="Cancel my voucher", tag="shop",
           allow=(SIGNED_IN,), scope="shop", response=VOUCHER, errors=(409,))
def cancel_voucher(user, voucher_id):
    """An unused voucher: its points come back at once."""
    return voucher_json(services.cancel_voucher(user, voucher_id))


@operation("POST", "/vouchers/scan", summary="Take a voucher at the counter", tag="shop", allow=(SIGNED_IN,),
           scope="shop", response=SETTLED, body=FromForm(ScanForm), errors=(403, 404, 409),
           limits=[(config_limit("VOUCHER_SCAN_RATE_LIMIT", "30 per minute"), per_user_key("api-scan"))])
def scan(user, code):
    """For a partner's staff (or the flea-market seller or its staff): the points move from
    escrow to the shop. A second scan moves nothing and says when and where it was used (409)."""
    voucher = services.scan(user, code)
    return {"id": voucher.id, "title": voucher.offer.title, "price": voucher.price, "status": voucher.status,
            "closed_at": iso(voucher.closed_at), "used_at_place": voucher.used_at_place}
