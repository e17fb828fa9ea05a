"""The points mall: the catalogue, redeeming, my vouchers, the counter scan, offers and listings."""

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import access
from marketplace.access import PUBLIC, SIGNED_IN, allow
from marketplace.errors import DomainError
from marketplace.extensions import limiter
from marketplace.forms import EmptyForm, ReasonForm
from marketplace.ledger import services as ledger
from marketplace.partners.models import PartnerEnterprise
from marketplace.qr import qr_svg
from marketplace.shop import services
from marketplace.shop.forms import CATEGORY_LABELS, ListingForm, OfferForm, RedeemForm, ScanForm
from marketplace.shop.models import Offer, Voucher
from marketplace.web import act_and_flash, attach_error, new_form_key, not_found_on_404

bp = Blueprint("shop", __name__, url_prefix="/shop")

OFFER_MANAGERS = ("partner_staff", "community_admin")


@bp.app_context_processor
def _shop_helpers():
    return {
        "shop_name": services.shop_name,
        "format_code": services.format_code,
        "category_labels": CATEGORY_LABELS,
        "partner_account_id": lambda partner: ledger.partner_account(partner).id,
    }


@bp.route("/")
@allow(PUBLIC)
def catalogue():
    shop, category = request.args.get("shop") or None, request.args.get("category") or None
    shops = PartnerEnterprise.select().where(PartnerEnterprise.active).order_by(PartnerEnterprise.name)
    balance = ledger.user_account(current_user).balance if current_user.is_authenticated else None
    return render_template(
        "shop/catalogue.html", offers=services.catalogue(shop, category), shops=shops, shop=shop,
        category=category, balance=balance,
    )


def _offer_or_404(offer_id: int) -> Offer:
    try:
        return services.visible_offer(current_user if current_user.is_authenticated else None, offer_id)
    except DomainError:
        abort(404)


@bp.route("/offers/<int:offer_id>")
@allow(PUBLIC)
def offer(offer_id):
    item = _offer_or_404(offer_id)
    balance = ledger.user_account(current_user).balance if current_user.is_authenticated else None
    return render_template("shop/offer.html", offer=item, form=RedeemForm(key=new_form_key()), balance=balance)


@bp.route("/offers/<int:offer_id>/redeem", methods=["POST"])
@allow(SIGNED_IN)
def redeem(offer_id):
    form = RedeemForm()
    if not form.validate_on_submit() or not form.key.data:
        abort(400)
    try:
        voucher = services.redeem(current_user, offer_id, form.key.data)
    except DomainError as error:
        not_found_on_404(error)
        item = _offer_or_404(offer_id)
        form.form_errors.append(error.message)
        form.key.data = new_form_key()
        balance = ledger.user_account(current_user).balance
        return render_template("shop/offer.html", offer=item, form=form, balance=balance), error.status
    flash(_("Done! Show this voucher at the counter."), "success")
    return redirect(url_for("shop.voucher", voucher_id=voucher.id))


@bp.route("/vouchers")
@allow(SIGNED_IN)
def vouchers():
    mine = [
        services.expire_if_due(v)
        for v in Voucher.select().where(Voucher.holder == current_user.id).order_by(Voucher.created_at.desc())
    ]
    return render_template("shop/vouchers.html", vouchers=mine, button_form=EmptyForm())


def _voucher_of_current_user(voucher_id: int) -> Voucher:
    try:
        return services.own_voucher(current_user, voucher_id)
    except DomainError:
        abort(404)


@bp.route("/vouchers/<int:voucher_id>")
@allow(SIGNED_IN)
def voucher(voucher_id):
    item = _voucher_of_current_user(voucher_id)
    scan_url = url_for("shop.scan", code=item.code, _external=True)
    return render_template(
        "shop/voucher.html", voucher=item, qr=qr_svg(scan_url, _("Voucher QR code")), button_form=EmptyForm()
    )


@bp.route("/vouchers/<int:voucher_id>/status")
@allow(SIGNED_IN)
def voucher_status(voucher_id):
    """Polled by the voucher page, so the member sees "used" the moment the shop scans it."""
    item = _voucher_of_current_user(voucher_id)
    return jsonify(status=item.status)


@bp.route("/vouchers/<int:voucher_id>/cancel", methods=["POST"])
@allow(SIGNED_IN)
def cancel_voucher(voucher_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return act_and_flash(lambda: services.cancel_voucher(current_user, voucher_id),
                         _("The voucher is cancelled and its points are back in your balance."),
                         url_for("shop.voucher", voucher_id=voucher_id))


def _scan_limit_key() -> str:
    return f"scan:{current_user.id}" if current_user.is_authenticated else "scan:anonymous"


@bp.route("/scan", methods=["GET", "POST"])
@allow(SIGNED_IN)
@limiter.limit(lambda: current_app.config["VOUCHER_SCAN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["VOUCHER_SCAN_RATE_LIMIT"], methods=["POST"], key_func=_scan_limit_key)
def scan():
    """The counter: the shop's staff scan the member's QR with the phone camera, or type the code.
    Opening the QR's link with the phone's own camera app lands here with the code filled in."""
    form = ScanForm()
    if not form.is_submitted() and request.args.get("code"):
        form.code.data = services.format_code(services.normalize_code(request.args["code"]))
    settled, status = None, 200
    if form.validate_on_submit():
        try:
            settled = services.scan(current_user, form.code.data)
        except DomainError as error:
            attach_error(form, error)
            status = error.status
        else:
            form = ScanForm(formdata=None)
    elif form.errors:
        status = 422
    return render_template("shop/scan.html", form=form, settled=settled), status


# ---- offers, listings and their review ----------------------------------------------------


def _managed_partners():
    scope = access.scope_of(current_user)
    ids = list(scope.partners)
    if scope.everything:
        return list(PartnerEnterprise.select().order_by(PartnerEnterprise.name))
    return list(PartnerEnterprise.select().where(PartnerEnterprise.id.in_(ids or [0])).order_by(PartnerEnterprise.name))


@bp.route("/manage", methods=["GET", "POST"])
@allow(OFFER_MANAGERS)
def manage():
    """A shop's offers, and a form to publish a new one. Community staff publish flea-market offers."""
    partners = _managed_partners()
    communities = access.scope_of(current_user).administered_community_ids()
    form = OfferForm()
    if form.validate_on_submit():
        try:
            if partners:
                services.create_partner_offer(current_user, partners[0].id, form.values())
            else:
                services.create_flea_market_offer(current_user, communities[0] if communities else 0, form.values())
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("The offer is published."), "success")
            return redirect(url_for("shop.manage"))
    if partners:
        offers = Offer.select().where(Offer.partner.in_([p.id for p in partners]))
    else:
        offers = Offer.select().where(Offer.partner.is_null(), Offer.seller.is_null(), Offer.community.in_(communities or [0]))
    return render_template(
        "shop/manage.html", form=form, offers=offers.order_by(Offer.created_at.desc()), partners=partners,
        button_form=EmptyForm(),
    ), 422 if form.errors else 200


@bp.route("/offers/<int:offer_id>/withdraw", methods=["POST"])
@allow(SIGNED_IN)
def withdraw(offer_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        offer = services.withdraw_offer(current_user, offer_id)
    except DomainError as error:
        not_found_on_404(error)
        flash(error.message, "error")
        return redirect(url_for("shop.catalogue"))
    flash(_("The offer is taken down. Vouchers already issued stay valid."), "success")
    return redirect(url_for("shop.sell" if offer.seller_id else "shop.manage"))


@bp.route("/sell", methods=["GET", "POST"])
@allow("resident")
def sell():
    """A resident lists a second-hand item for the flea market; staff review it first."""
    form = ListingForm()
    if form.validate_on_submit():
        try:
            services.list_second_hand_item(current_user, form.values())
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("Thank you! Your item will be on sale once the community has checked it."), "success")
            return redirect(url_for("shop.sell"))
    listings = Offer.select().where(Offer.seller == current_user.id).order_by(Offer.created_at.desc())
    return render_template("shop/sell.html", form=form, listings=listings, button_form=EmptyForm()), (
        422 if form.errors else 200
    )


@bp.route("/review")
@allow(services.LISTING_REVIEWERS)
def review():
    return render_template(
        "shop/review.html", listings=services.pending_listings(current_user), button_form=EmptyForm(),
        reason_form=ReasonForm(formdata=None),
    )


@bp.route("/review/<int:offer_id>/approve", methods=["POST"])
@allow(services.LISTING_REVIEWERS)
def approve_listing(offer_id):
    return _review(offer_id, approve=True, note="", form=EmptyForm())


@bp.route("/review/<int:offer_id>/reject", methods=["POST"])
@allow(services.LISTING_REVIEWERS)
def reject_listing(offer_id):
    form = ReasonForm()
    return _review(offer_id, approve=False, note=form.reason.data or "", form=form)


def _review(offer_id, approve, note, form):
    if not form.validate_on_submit() and approve:
        abort(400)
    return act_and_flash(lambda: services.review_listing(current_user, offer_id, approve, note),
                         _("Saved. The seller will see the decision."), url_for("shop.review"))
