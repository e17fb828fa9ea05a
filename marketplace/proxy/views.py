"""Pages for acting on behalf: staff find a resident in their scope, book for them, register a
household member without a mobile phone, and see their acts of the month; everyone concerned
reads and prints an act's receipt. The rules are in proxy.services and the request services."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.access import SIGNED_IN, STAFF, allow
from marketplace.errors import DomainError
from marketplace.events import services as events
from marketplace.forms import EmptyForm, choices_of
from marketplace.ledger import services as ledger
from marketplace.menu.models import ServiceItem
from marketplace.proxy import services
from marketplace.proxy.forms import AskForm, LinkForm, MemberForm, SearchForm
from marketplace.service_requests import services as requests
from marketplace.service_requests.forms import BookingForm
from marketplace.service_requests.models import ServiceRequest
from marketplace.shop import services as shop
from marketplace.shop.forms import RedeemForm
from marketplace.users.models import User
from marketplace.web import attach_error, flash_form_errors, new_form_key

bp = Blueprint("proxy", __name__, url_prefix="/on-behalf")
family_bp = Blueprint("family", __name__, url_prefix="/family")


@bp.app_context_processor
def _proxy_helpers():
    return {"proxy_act_label": services.act_label}


@bp.route("/")
@allow(STAFF)
def index():
    form = SearchForm(request.args)
    query = form.q.data if form.validate() else ""
    mine = list(services.acts_this_month(current_user))
    everyone = list(services.acts_this_month(current_user, everyone=True)) if services.sees_everyones(
        current_user) else None
    return render_template("proxy/index.html", form=form, people=services.residents_in_scope(current_user, query),
                           mine=mine, everyone=everyone)


def _person(user_id: int) -> User:
    try:
        return services.person_to_act_for(current_user, user_id)
    except DomainError:
        abort(404)


@bp.route("/people/<int:user_id>")
@allow(SIGNED_IN)  # staff in scope, and family members the person consented to (404 to others)
def person(user_id):
    person = _person(user_id)
    own = ServiceRequest.select().where(ServiceRequest.resident == person.id).order_by(ServiceRequest.id.desc())
    items = ServiceItem.select().where(ServiceItem.active).order_by(ServiceItem.category, ServiceItem.id)
    offers = list(shop.catalogue().limit(30))
    as_staff = services.may_act_for(current_user, person.id) == "staff"
    return render_template("proxy/person.html", person=person, requests=own, items=items, as_staff=as_staff,
                           offers=offers, balance=ledger.user_account(person).balance,
                           redeem_keys={offer.id: new_form_key() for offer in offers},
                           phoneless=services.is_phoneless(person), phone=services.contact_phone(person),
                           places=events.places_for(current_user, person),
                           links=services.links_of(person)["for_me"] if as_staff else [],
                           link_form=LinkForm(formdata=None), button_form=EmptyForm())


@bp.route("/people/<int:user_id>/family", methods=["POST"])
@allow(STAFF)
def link_family(user_id):
    person = _person(user_id)
    form = LinkForm()
    if form.validate_on_submit():
        try:
            services.link_in_person(current_user, person.id, form.phone.data, form.relation.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Recorded: %(name)s consented before you. The family member may now act for them.",
                    name=person.display_name), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("proxy.person", user_id=person.id))


@bp.route("/people/<int:user_id>/book/<item_code>", methods=["GET", "POST"])
@allow(SIGNED_IN)  # as the person's page
def book(user_id, item_code):
    person = _person(user_id)
    item = ServiceItem.get_or_none((ServiceItem.code == item_code) & ServiceItem.active)
    if item is None:
        abort(404)
    form = BookingForm()
    if form.validate_on_submit():
        upload = form.photo.data
        photo = upload.read() if upload and getattr(upload, "filename", "") else None
        try:
            req = requests.book(person, item.id, form.description.data, form.preferred_date.data,
                                form.preferred_period.data, photo, actor=current_user)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("The request is in for %(name)s. Print the receipt for them: it carries their on-site code.",
                    name=person.display_name), "success")
            act = services.ProxyAct.get((services.ProxyAct.request == req.id) & (services.ProxyAct.action == "book"))
            return redirect(url_for("proxy.receipt", act_id=act.id))
    return render_template("proxy/book.html", form=form, item=item, person=person), 422 if form.errors else 200


@bp.route("/people/<int:user_id>/redeem/<int:offer_id>", methods=["POST"])
@allow(SIGNED_IN)  # as the person's page
def redeem(user_id, offer_id):
    person = _person(user_id)
    form = RedeemForm()
    if not form.validate_on_submit() or not form.key.data:
        abort(400)
    try:
        voucher = shop.redeem(person, offer_id, form.key.data, actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("proxy.person", user_id=person.id))
    act = services.ProxyAct.get_or_none(services.ProxyAct.voucher == voucher.id)
    if act is None:  # cannot happen with the actor's own keys; said plainly rather than failing
        abort(409)
    flash(_("Redeemed for %(name)s. Print the slip for them: the shop takes the voucher's code.",
            name=person.display_name), "success")
    return redirect(url_for("proxy.receipt", act_id=act.id))


def _at_event(user_id, event_id, act, done_message: str):
    """Do `act` for the person at an event, then show the slip of what was done; back to the
    person's page when nothing was (signed up already, say) or it was refused."""
    person = _person(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    before = services.last_act_at_event(current_user, person, event_id)
    try:
        message = act(person)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("proxy.person", user_id=person.id))
    flash(message or done_message, "success")
    done = services.last_act_at_event(current_user, person, event_id)
    if done is None or done == before:
        return redirect(url_for("proxy.person", user_id=person.id))
    return redirect(url_for("proxy.receipt", act_id=done.id))


@bp.route("/people/<int:user_id>/events/<int:event_id>/signup", methods=["POST"])
@allow(SIGNED_IN)  # as the person's page; the service asks may_act_for
def event_signup(user_id, event_id):
    def act(person):
        signup = events.sign_up(person, event_id, actor=current_user)
        if signup.status == "waitlisted":
            return _("%(name)s is on the waiting list. Print the slip for them.", name=person.display_name)
        return None
    return _at_event(user_id, event_id, act, _("Signed up. Print the slip for them: it says when and where."))


@bp.route("/people/<int:user_id>/events/<int:event_id>/cancel", methods=["POST"])
@allow(SIGNED_IN)
def event_cancel(user_id, event_id):
    def act(person):
        events.cancel_signup(person, event_id, actor=current_user)
    return _at_event(user_id, event_id, act, _("Their place is given back."))


@bp.route("/people/<int:user_id>/events/<int:event_id>/check/<any(in,out):direction>", methods=["POST"])
@allow(STAFF)  # at the door: staff who run it and look after the person (the service asks both)
def event_check(user_id, event_id, direction):
    return _at_event(user_id, event_id,
                     lambda person: events.check_for(current_user, event_id, person.id, direction).message, "")


@bp.route("/members/new", methods=["GET", "POST"])
@allow(STAFF)
def new_member():
    form = MemberForm()
    form.household.choices = choices_of([("", _("Choose…"))] + [
        (str(h.id), h.address()) for h in services.households_to_register_in(current_user)])
    if form.validate_on_submit():
        try:
            member = services.register_member(current_user, form.household.data, form.display_name.data,
                                              form.landline.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_("%(name)s is registered. You can now ask for services for them.", name=member.display_name),
                  "success")
            return redirect(url_for("proxy.person", user_id=member.id))
    return render_template("proxy/member.html", form=form), 422 if form.errors else 200


@bp.route("/acts/<int:act_id>")
@allow(SIGNED_IN)
def receipt(act_id):
    try:
        act = services.get_receipt(current_user, act_id)
    except DomainError:
        abort(404)
    return render_template("proxy/receipt.html", act=act, show_code=services.shows_code(act))


# ---- family links ----------------------------------------------------------------------------


@family_bp.route("/", endpoint="index")
@allow(SIGNED_IN)
def family_page():
    links = services.links_of(current_user)
    return render_template("proxy/family.html", for_me=links["for_me"], i_act_for=links["i_act_for"],
                           staff=services.staff_for(current_user), ask_form=AskForm(formdata=None),
                           button_form=EmptyForm())


@family_bp.route("/ask", methods=["POST"])
@allow(SIGNED_IN)
def ask():
    form = AskForm()
    if form.validate_on_submit():
        try:
            services.ask_link(current_user, form.phone.data, form.relation.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("If this number is a verified resident's, they are asked now. They can say yes on their phone, "
                    "or in person before their building head."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("family.index"))


def _answer(action, message):
    try:
        link = action()
    except DomainError as error:
        flash(error.message, "error")
        return redirect(request.referrer if _same_site(request.referrer) else url_for("family.index"))
    flash(message, "success")
    if current_user.id in (link.resident_id, link.family_id):
        return redirect(url_for("family.index"))
    return redirect(url_for("proxy.person", user_id=link.resident_id))


def _same_site(url) -> bool:
    return bool(url) and url.startswith(request.host_url)


@family_bp.route("/links/<int:link_id>/consent", methods=["POST"])
@allow(SIGNED_IN)
def consent(link_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _answer(lambda: services.consent(current_user, link_id), _("Consent recorded."))


@family_bp.route("/links/<int:link_id>/end", methods=["POST"])
@allow(SIGNED_IN)
def end(link_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _answer(lambda: services.end_link(current_user, link_id),
                   _("Ended. From now on they may no longer act for this person."))
