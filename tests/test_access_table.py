"""Who may use which page: one row per route, stating what each kind of person gets.

A GET is tried on every route that has one; a POST-only route gets a POST carrying a valid CSRF
token and nothing else, so that the answer shows whether the person was let in (302/400 from the
view itself) or refused (403, or the login page for anonymous visitors). A route with no row here,
or a row for a route that no longer exists, fails the test: adding a route means deciding who may
use it. To add a row: `"blueprint.endpoint": ("/path/{demo_id}", roles("community_admin")),` and,
if the path needs a new demo id, one line in `demo_ids()`.

The same pass checks what every page must carry whoever asks (issue 9): no GET writes a row (the
SQL each GET sends is read: no INSERT, UPDATE or DELETE but on the tables a reading may write), and
every answer has the security headers. That was a second sweep over the same pages
(tests/test_security.py) until it was folded in here.
"""

import hashlib
import re
from datetime import date, timedelta
from urllib.parse import urlparse

import peewee as pw
import pytest

from marketplace.audit import AuditHead, AuditLog
from marketplace.db import db
from marketplace.events.models import Badge
from marketplace.menu.models import ServiceItem
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Grid
from marketplace.public.models import FundUse
from marketplace.schema import ALL_MODELS
from marketplace.timeutil import utcnow
from marketplace.users.models import (
    STAFF_ROLES,
    LoginSession,
    PartnerInvite,
    ResidencyApplication,
    RoleGrant,
    User,
    VolunteerApplication,
)
from marketplace.workdays import WorkdayOverride
from tests.conftest import DEMO_PHONES, csrf_token, sql_sent

IDENTITIES = (
    "anonymous",
    "resident",
    "volunteer",
    "partner_staff",
    "building_head",
    "grid_admin",
    "community_admin",
    "street_officer",
    "admin",
)
LOGIN = "login page"  # 302 to /login?next=...: the anonymous visitor is asked to log in
INVITE_TOKEN = "access-table-invitation"


# ---- who gets what --------------------------------------------------------------------------


def everyone(status):
    return {who: status for who in IDENTITIES}


def anonymous_only(status=200, signed_in=302):
    """Pages for visitors (log in, sign up): signed-in people are sent on."""
    return {**everyone(signed_in), "anonymous": status}


def signed_in_only(status=200):
    return {**everyone(status), "anonymous": LOGIN}


def roles(*allowed, ok=200, refused=403):
    """The roles named (and admin, who may do everything) get `ok`; other signed-in people `refused`."""
    return {who: LOGIN if who == "anonymous" else ok if who in allowed or who == "admin" else refused for who in IDENTITIES}


def staff_only(ok=200):
    return roles(*STAFF_ROLES, ok=ok)


VERIFIERS = ("building_head", "grid_admin", "community_admin")


def organisers_only(ok=200):
    """An event's organising (events.permissions.MATRIX): its community's administrator and street
    staff; building heads and grid administrators help at the door only (403 here)."""
    return roles("community_admin", "street_officer", ok=ok)


def in_residents_scope(status):
    """张阿姨's own things: she and the staff covering her home get `status`; other people 404."""
    return {**signed_in_only(404), "resident": status, **{who: status for who in STAFF_ROLES}}


def holder_only(status):
    """The resident's voucher: only its holder sees it; to anyone else it does not exist."""
    return {**signed_in_only(404), "resident": status}


def api_signed_in(status):
    """API routes for any signed-in person: 401 (not the login page) without a session or token."""
    return {**everyone(status), "anonymous": 401}


def api_roles(*allowed, ok=200):
    return {**roles(*allowed, ok=ok), "anonymous": 401}


def api_scope(table):
    """A page's table for the same thing, with the API's 401 for anonymous callers."""
    return {**table, "anonymous": 401}


# endpoint: (path, what each identity gets). Paths name demo ids in braces (see demo_ids).
ROUTES = {
    "public.home": ("/", everyone(200)),
    "ops.healthz": ("/healthz", everyone(200)),  # for load balancers and monitoring
    # The installable site's shell (issue 21): for everyone, signed in or not.
    "shell.favicon": ("/favicon.ico", everyone(200)),
    "shell.manifest": ("/manifest.webmanifest", everyone(200)),
    "shell.service_worker": ("/sw.js", everyone(200)),
    "shell.offline": ("/offline", everyone(200)),
    "users.signup": ("/signup", anonymous_only(200)),
    "users.signup_confirm": ("/signup/confirm", anonymous_only(200)),
    "users.login": ("/login", anonymous_only(200)),
    "users.logout": ("/logout", everyone(302)),
    # Getting back in (issue 16): for anyone; the code in person from staff covering 张阿姨.
    "users.forgot_password": ("/password/forgot", everyone(200)),
    "users.reset_password": ("/password/reset", everyone(200)),
    "users.reset_code_for": ("/staff/people/{resident}/reset-code", roles(*VERIFIERS)),
    "api.request_password_code": ("/api/v1/password/code", everyone(415)),  # no session needed; JSON only
    "api.reset_password_with_code": ("/api/v1/password/reset", everyone(415)),
    "api.request_signup_code": ("/api/v1/signup/code", everyone(415)),
    "api.confirm_signup": ("/api/v1/signup", everyone(415)),
    "api.request_phone_change_code": ("/api/v1/me/phone/code", api_signed_in(415)),
    "api.confirm_phone_change": ("/api/v1/me/phone", api_signed_in(415)),
    "users.logout_everywhere": ("/account/logout-everywhere", signed_in_only(302)),
    "users.set_language": ("/language", everyone(400)),  # no language chosen
    "users.account": ("/account", signed_in_only(200)),
    "users.change_password": ("/account/password", signed_in_only(200)),
    "users.change_phone": ("/account/phone", signed_in_only(200)),
    "users.change_phone_confirm": ("/account/phone/confirm", signed_in_only(302)),  # no new number asked yet
    "notifications.index": ("/messages/", signed_in_only(200)),
    "notifications.open_one": ("/messages/{notification}/open", holder_only(302)),  # 张阿姨's message
    "notifications.read_all": ("/messages/read-all", signed_in_only(302)),
    "notifications.own_preferences": ("/messages/preferences", signed_in_only(200)),
    "notifications.resident_messages": ("/messages/people/{resident}", staff_only(200)),
    "notifications.calls": ("/messages/calls", staff_only(200)),
    "notifications.record_call": ("/messages/calls/1", staff_only(400)),  # no outcome chosen
    "notifications.sms_receipts": ("/messages/receipts/sms/not-the-token", everyone(403)),
    "notifications.wechat_events": ("/messages/receipts/wechat", everyone(403)),  # no signature
    # Acting on behalf of a resident (issue 16): staff whose scope covers 张阿姨 (all demo staff do);
    # a receipt is hers, its actor's and in-scope staff's to read.
    "proxy.index": ("/on-behalf/", staff_only(200)),
    # Her page and booking for her: staff in scope and family she consented to (none in the demo);
    # to anyone else (herself included: she books on her own pages) it does not exist.
    "proxy.person": ("/on-behalf/people/{resident}", {**in_residents_scope(200), "resident": 404}),
    "proxy.book": ("/on-behalf/people/{resident}/book/companionship_visit",
                   {**in_residents_scope(200), "resident": 404}),
    "proxy.redeem": ("/on-behalf/people/{resident}/redeem/{offer}", {**in_residents_scope(400), "resident": 404}),  # no key
    "proxy.link_family": ("/on-behalf/people/{resident}/family", staff_only(302)),  # no number: said on her page
    # Family links: one's own page; answering a link that does not exist is said on the page.
    "family.index": ("/family/", signed_in_only(200)),
    "care.register": ("/care/register", roles(*VERIFIERS)),
    "care.add_member": ("/care/register", roles(*VERIFIERS, ok=302)),
    "care.create_pair": ("/care/pairs", roles(*VERIFIERS, ok=302)),
    # The demo has no care pair: a keeper is let in and told there is no such pair (404, as
    # for any object that is missing or outside one's scope); everyone else is refused first.
    "care.change_pair": ("/care/pairs/1/pause", roles(*VERIFIERS, ok=404)),
    "care.confirm_by_phone": ("/care/visits/1/phone", roles(*VERIFIERS, ok=302)),
    "care.mine": ("/care/mine", signed_in_only(200)),
    "care.confirm": ("/care/visits/1/confirm", roles("volunteer", ok=302)),
    "family.ask": ("/family/ask", signed_in_only(302)),
    "family.consent": ("/family/links/1/consent", signed_in_only(302)),
    "family.end": ("/family/links/1/end", signed_in_only(302)),
    "proxy.new_member": ("/on-behalf/members/new", staff_only(200)),
    # At events for her: she is no volunteer, so staff in scope are told so on her page (flashed).
    "proxy.event_signup": ("/on-behalf/people/{resident}/events/{event}/signup",
                           {**in_residents_scope(302), "resident": 404}),
    "proxy.event_cancel": ("/on-behalf/people/{resident}/events/{event}/cancel",
                           {**in_residents_scope(302), "resident": 404}),
    "proxy.event_check": ("/on-behalf/people/{resident}/events/{event}/check/in", roles(*STAFF_ROLES, ok=302)),
    "proxy.receipt": ("/on-behalf/acts/{proxy_act}", in_residents_scope(200)),
    "users.household": ("/account/household", signed_in_only(200)),
    "users.volunteer": ("/account/volunteer", signed_in_only(200)),
    "users.join_partner": ("/join/{invite}", signed_in_only(200)),
    "users.reauthenticate": ("/account/confirm", signed_in_only(200)),
    "rights.my_data": ("/account/my-data", signed_in_only(200)),  # one's own data only (issue 21)
    "rights.my_data_json": ("/account/my-data.json", signed_in_only(200)),
    # Closing one's own account (just logged in, so the password is fresh); staff accounts are
    # closed by an administrator, not by themselves.
    "rights.close_own": ("/account/close", {**signed_in_only(200), **{who: 403 for who in STAFF_ROLES}}),
    # Staff close a resident's account in person: the confirmation page (the building head covers 张阿姨 but
    # may not switch accounts off).
    "rights_staff.close_for": ("/staff/people/{resident}/close", staff_only(200) | {"building_head": 403, "grid_admin": 403, "street_officer": 403}),
    "menu.index": ("/menu/", everyone(200)),
    "menu.manage": ("/menu/manage", roles("community_admin")),
    "menu.new_item": ("/menu/items/new", roles("community_admin")),
    "menu.edit_item": ("/menu/items/{item}/edit", roles("community_admin")),
    "menu.retire_item": ("/menu/items/{item}/retire", roles("community_admin", ok=302)),
    "menu.restore_item": ("/menu/items/{item}/restore", roles("community_admin", ok=302)),
    "places.index": ("/places/", roles("community_admin")),
    "places.add_grid": ("/places/grids", roles("community_admin", ok=302)),  # form refused, flashed
    "places.add_building": ("/places/buildings", roles("community_admin", ok=302)),
    "places.add_households": ("/places/households", roles("community_admin", ok=302)),
    "places.rename": ("/places/grid/{grid}/rename", roles("community_admin", ok=302)),
    "partners.index": ("/partners/", roles("community_admin")),
    "partners.new": ("/partners/new", roles("community_admin")),
    "partners.show": ("/partners/{partner}", roles("community_admin")),
    "staff.queue": ("/staff/", staff_only(200)),
    "staff.verify_residency": ("/staff/residency/{pending_residency}/verify", roles(*VERIFIERS, ok=302)),
    "staff.reject_residency": ("/staff/residency/{pending_residency}/reject", roles(*VERIFIERS, ok=302)),
    "staff.approve_volunteer": ("/staff/volunteers/{volunteer_application}/approve", roles("community_admin", ok=302)),
    "staff.reject_volunteer": ("/staff/volunteers/{volunteer_application}/reject", roles("community_admin", ok=302)),
    "staff.people": ("/staff/people", staff_only(200)),
    "staff.person": ("/staff/people/{resident}", staff_only(200)),  # 张阿姨 is in every staff member's scope
    "staff.show_phone": ("/staff/people/{resident}/phone", staff_only(200)),
    "staff.grant_role": ("/staff/people/{resident}/roles", roles("community_admin", ok=400)),  # "Please choose a role."
    # 王小明 lives in building 2: outside the building head's scope, so not even found there.
    "staff.revoke_role": ("/staff/people/{volunteer}/roles/{volunteer_grant}/revoke", roles("community_admin", ok=302) | {"building_head": 404}),
    "staff.deactivate": ("/staff/people/{resident}/deactivate", roles("community_admin", ok=302)),
    "staff.reactivate": ("/staff/people/{resident}/reactivate", roles("community_admin", ok=302)),
    # Points: one's own statement; staff see the accounts of the people in their scope.
    "ledger.mine": ("/points/", signed_in_only(200)),
    "ledger.account": ("/points/accounts/{resident_account}", in_residents_scope(200)),
    "ledger.export": ("/points/accounts/{resident_account}/statement.csv", in_residents_scope(200)),
    "ledger.accounts": ("/points/accounts", staff_only(200)),
    "ledger.adjust": ("/points/accounts/{resident_account}/adjust", roles("community_admin")),
    "ledger.pending_adjustments": ("/points/adjustments", roles("community_admin")),
    "ledger.approve_adjustment": ("/points/adjustments/{adjustment}/approve", roles("community_admin", ok=302)),
    "ledger.reject_adjustment": ("/points/adjustments/{adjustment}/reject", roles("community_admin", ok=302)),
    "ledger.settlement": ("/points/settlement", roles("community_admin", "street_officer")),
    # The points mall: anyone may look; redeeming needs an account; the counter needs a shop or stall.
    "shop.catalogue": ("/shop/", everyone(200)),
    "shop.offer": ("/shop/offers/{offer}", everyone(200)),
    "shop.redeem": ("/shop/offers/{offer}/redeem", signed_in_only(400)),  # no form key: refused
    "shop.vouchers": ("/shop/vouchers", signed_in_only(200)),
    "shop.voucher": ("/shop/vouchers/{voucher}", holder_only(200)),
    "shop.voucher_status": ("/shop/vouchers/{voucher}/status", holder_only(200)),
    "shop.cancel_voucher": ("/shop/vouchers/{voucher}/cancel", holder_only(302)),
    "shop.scan": ("/shop/scan", signed_in_only(200)),
    "shop.manage": ("/shop/manage", roles("partner_staff", "community_admin")),
    "shop.withdraw": ("/shop/offers/{offer}/withdraw", {**signed_in_only(404), "partner_staff": 302, "admin": 302}),
    "shop.sell": ("/shop/sell", roles("resident", "volunteer")),  # the volunteer is a resident too
    "shop.review": ("/shop/review", roles(*VERIFIERS)),
    "shop.approve_listing": ("/shop/review/{listing}/approve", roles(*VERIFIERS, ok=302)),
    "shop.reject_listing": ("/shop/review/{listing}/reject", roles(*VERIFIERS, ok=302)),
    # Service requests: 张阿姨's open plumbing request (a partner's job) with a photo.
    "service_requests.mine": ("/requests/", signed_in_only(200)),
    "service_requests.book": ("/requests/new/plumbing_electrical",
                              {**signed_in_only(302), "resident": 200, "volunteer": 200}),  # others: verify first
    "service_requests.show": ("/requests/{service_request}", in_residents_scope(200)),
    "service_requests.photo": ("/requests/{service_request}/photo", in_residents_scope(200)),
    "service_requests.overview": ("/requests/overview", staff_only(200)),
    "service_requests.board": ("/jobs/", roles("volunteer", "partner_staff")),
    "service_requests.my_jobs": ("/jobs/mine", roles("volunteer", "partner_staff")),
    "service_requests.claim": ("/jobs/{service_request}/claim", roles("volunteer", "partner_staff", ok=302)),
    "service_requests.finish": ("/jobs/{service_request}/finish", roles("volunteer", "partner_staff", ok=404)
                                | {"partner_staff": 200, "admin": 200}),  # the claimer (and staff) only
    "service_requests.release": ("/jobs/{service_request}/release", roles("volunteer", "partner_staff", ok=302)),
    "service_requests.mark_done": ("/jobs/{service_request}/done", roles("volunteer", "partner_staff", ok=302)
                                   | {"volunteer": 404}),
    # Buttons on the request page: let in, then the rules of the lifecycle answer with a message.
    # (The partner's staff member took the job above, so sees it now.)
    "service_requests.confirm": ("/requests/{service_request}/confirm", in_residents_scope(302) | {"partner_staff": 302}),
    "service_requests.dispute": ("/requests/{service_request}/dispute", signed_in_only(302)),  # "say what went wrong"
    "service_requests.rate": ("/requests/{service_request}/rate", signed_in_only(302)),  # "give 1 to 5 stars"
    "service_requests.cancel": ("/requests/{service_request}/cancel", in_residents_scope(302) | {"partner_staff": 302}),
    "service_requests.escalate": ("/requests/{service_request}/escalate", staff_only(302)),
    "service_requests.resolve": ("/requests/{service_request}/resolve", staff_only(302)),
    # Promises (issue 15): staff record answers and decide reopening; the resident asks to reopen;
    # the department's officers have their own queue.
    "service_requests.answer": ("/requests/{service_request}/solve", staff_only(302)),
    "service_requests.request_reopen": ("/requests/{service_request}/reopen", signed_in_only(302)),
    "service_requests.decide_reopen": ("/requests/{service_request}/reopen/decide", staff_only(302)),
    "service_requests.department_queue": ("/requests/department", roles("street_officer")),
    # The back office: dashboards, queue exports and the working-day calendar for every staff
    # member (each sees their own scope); the audit log for community administrators.
    "staff.withdraw_invitation": ("/staff/invitations/{invite_id}/withdraw", roles("community_admin", ok=302)),
    "staff.dashboard": ("/staff/dashboard", staff_only(200)),
    "staff.dashboard_csv": ("/staff/dashboard/months.csv", staff_only(200)),
    "staff.queue_csv": ("/staff/queue/deadlines.csv", staff_only(200)),
    "staff.exports": ("/staff/exports", staff_only(200)),
    "staff.export_requests": ("/staff/exports/requests-all.csv", staff_only(200)),
    "staff.export_people": ("/staff/exports/people.csv", staff_only(200)),
    "staff.export_accounts": ("/staff/exports/accounts.csv", staff_only(200)),
    "workdays.calendar_page": ("/staff/calendar", staff_only(200)),
    "workdays.calendar_csv": ("/staff/calendar/2027.csv", staff_only(200)),
    "workdays.add_calendar_days": ("/staff/calendar/days", roles("community_admin", "street_officer", ok=422)),  # no day given
    "workdays.import_calendar": ("/staff/calendar/import", roles("community_admin", "street_officer", ok=422)),  # no file
    "workdays.remove_calendar_day": ("/staff/calendar/days/{workday_override}/remove", roles("community_admin", "street_officer", ok=302)),
    "audit.audit_log": ("/staff/audit", roles("community_admin")),
    "audit.audit_csv": ("/staff/audit.csv", roles("community_admin")),
    "funds.funds": ("/staff/funds", roles("community_admin", "street_officer")),
    "funds.funds_csv": ("/staff/funds.csv", roles("community_admin", "street_officer")),
    "funds.withdraw_fund_use": ("/staff/funds/{fund_use}/withdraw", roles("community_admin", "street_officer", ok=302)),  # "say why"
    # The public disclosure board: for everyone, signed in or not.
    # matters the residents decide together: the demo's open matter concerns the resident's building (bj_b1)
    "proposals.index": ("/proposals", signed_in_only(200)),
    "proposals.new": ("/proposals/new", {**signed_in_only(302), "resident": 200, "volunteer": 200}),  # verified only
    "proposals.show": ("/proposals/{proposal}", {**roles(*STAFF_ROLES), "resident": 200, "volunteer": 404,
                                                 "partner_staff": 404}),
    "proposals.photo": ("/proposals/{proposal}/photo", signed_in_only(404)),  # it has none
    "proposals.update_photo": ("/proposals/updates/{proposal_update}/photo", signed_in_only(404)),
    "proposals.support": ("/proposals/{proposal}/support", {**signed_in_only(302), "volunteer": 404,
                                                            "partner_staff": 404}),
    "proposals.decide": ("/proposals/{proposal}/decide/accept", staff_only(302)),
    "proposals.meeting": ("/proposals/{proposal}/meeting", staff_only(302)),
    "proposals.minutes": ("/proposals/{proposal}/minutes", staff_only(302)),
    "proposals.open_vote": ("/proposals/{proposal}/vote/open", staff_only(302)),
    "proposals.vote": ("/proposals/{proposal}/vote", signed_in_only(302)),  # no choice: said on the page
    "proposals.vote_in_person": ("/proposals/{proposal}/vote/in-person", staff_only(302)),
    "proposals.close_vote": ("/proposals/{proposal}/vote/close", staff_only(302)),
    "proposals.start_action": ("/proposals/{proposal}/action", staff_only(302)),
    "proposals.add_task": ("/proposals/{proposal}/tasks", staff_only(302)),
    "proposals.close_task": ("/proposals/tasks/{proposal_task}/done", {**signed_in_only(302), "volunteer": 404}),
    "proposals.add_spending": ("/proposals/{proposal}/spending", staff_only(302)),
    "proposals.add_update": ("/proposals/{proposal}/updates", {**signed_in_only(302), "volunteer": 404,
                                                               "partner_staff": 404}),
    "proposals.finish": ("/proposals/{proposal}/finish", staff_only(302)),
    "proposals.evaluate": ("/proposals/{proposal}/evaluate", signed_in_only(302)),
    "proposals.areas": ("/proposals/{proposal}/areas", staff_only(200)),
    "proposals.points": ("/proposals/{proposal}/points", staff_only(302)),
    # 张阿姨's: the staff covering her home, and no one else (404); she does not act for herself
    "proposals.new_for": ("/proposals/new/for/{resident}", {**in_residents_scope(200), "resident": 404}),
    "proposals.household_area": ("/households/{resident_household}/floor-area", staff_only(302)),
    "proposals.board": ("/board/proposals", everyone(200)),
    "proposals.board_show": ("/board/proposals/{proposal_done}", everyone(200)),
    "public.board": ("/board", everyone(200)),
    "public.board_csv": ("/board.csv", everyone(200)),
    "public.board_funds_csv": ("/board/funds.csv", everyone(200)),
    "public.board_checkpoints": ("/board/checkpoints.json", everyone(200)),
    "public.board_checkpoints_schema": ("/board/checkpoints.schema.json", everyone(200)),
    "public.board_seal": ("/board/seal", everyone(200)),
    "public.board_data_json": ("/board/data.json", everyone(200)),  # open data (issue 21)
    "public.board_data_csv": ("/board/data.csv", everyone(200)),
    "public.board_data_schema": ("/board/data.schema.json", everyone(200)),
    # The JSON API (/api/v1): the browser's session is let in as a token with every scope would
    # be; with neither, 401 in the API's error format, never the login page. The POSTs here carry
    # a form, not JSON: 415 where the route takes a body; where it takes none, the service answers.
    "api.not_found": ("/api/v1/nowhere", everyone(404)),
    "api.openapi_json": ("/api/v1/openapi.json", everyone(200)),
    "api.docs": ("/api/v1/docs", everyone(200)),
    "api.menu": ("/api/v1/menu", everyone(200)),
    "api.me": ("/api/v1/me", api_signed_in(200)),
    "api.my_data": ("/api/v1/me/data", api_signed_in(200)),
    "api.close_my_account": ("/api/v1/me/close", api_signed_in(415)),  # needs {"understood": true}
    "api.list_requests": ("/api/v1/requests", api_signed_in(200)),
    "api.book": ("/api/v1/requests", api_signed_in(415)),
    "api.show_request": ("/api/v1/requests/{service_request}", api_scope(in_residents_scope(200) | {"partner_staff": 200})),
    # Family links (issue 16): one's own; consenting to or ending a link that does not exist: 404.
    "api.family_links": ("/api/v1/family/links", api_signed_in(200)),
    "api.ask_family_link": ("/api/v1/family/links", api_signed_in(415)),
    "api.consent_family_link": ("/api/v1/family/links/1/consent", api_signed_in(404)),
    "api.end_family_link": ("/api/v1/family/links/1/end", api_signed_in(404)),
    # Care pairs (issue 16): the key-group register for the staff who keep it (not street officers);
    # a volunteer's visits; POSTs with no input are refused by the forms (302 with a message).
    "api.list_care_visits": ("/api/v1/care/visits", api_roles("volunteer")),
    "api.confirm_care_visit": ("/api/v1/care/visits/1/confirm", api_roles("volunteer", ok=415)),
    "api.list_care_register": ("/api/v1/care/register", api_roles(*VERIFIERS)),
    "api.confirm_care_visit_by_phone": ("/api/v1/care/visits/1/phone", api_roles(*VERIFIERS, ok=415)),
    "api.list_my_care_visitors": ("/api/v1/care/visitors", api_signed_in(200)),
    "api.add_care_member": ("/api/v1/care/register", api_roles(*VERIFIERS, ok=415)),
    "api.create_care_pair": ("/api/v1/care/pairs", api_roles(*VERIFIERS, ok=415)),
    "api.change_care_pair": ("/api/v1/care/pairs/1", api_roles(*VERIFIERS, ok=415)),
    "api.cancel_request": ("/api/v1/requests/{service_request}/cancel", api_signed_in(415)),
    "api.confirm_request": ("/api/v1/requests/{service_request}/confirm", api_scope(in_residents_scope(409) | {"partner_staff": 403})),
    "api.dispute_request": ("/api/v1/requests/{service_request}/dispute", api_signed_in(415)),
    "api.rate_request": ("/api/v1/requests/{service_request}/rate", api_signed_in(415)),
    "api.escalate_request": ("/api/v1/requests/{service_request}/escalate", api_roles(*STAFF_ROLES, ok=415)),
    "api.give_feedback": ("/api/v1/requests/{service_request}/feedback", api_roles(*STAFF_ROLES, ok=415)),
    "api.explain_reasons": ("/api/v1/requests/{service_request}/explain", api_roles(*STAFF_ROLES, ok=415)),
    "api.solve_request": ("/api/v1/requests/{service_request}/solve", api_roles(*STAFF_ROLES, ok=415)),
    "api.request_reopen": ("/api/v1/requests/{service_request}/reopen", api_signed_in(415)),
    "api.decide_reopen": ("/api/v1/requests/{service_request}/reopen/decide", api_roles(*STAFF_ROLES, ok=415)),
    "api.department_queue": ("/api/v1/department/requests", api_roles("street_officer")),
    "api.list_proposals": ("/api/v1/proposals", api_signed_in(200)),
    "api.get_proposal": ("/api/v1/proposals/{proposal}", api_scope(in_residents_scope(200))),
    "api.create_proposal": ("/api/v1/proposals", api_signed_in(415)),
    # staff have no household: not theirs to support (403)
    "api.support_proposal": ("/api/v1/proposals/{proposal}/support", api_scope(in_residents_scope(403) | {"resident": 200})),
    "api.vote_on_proposal": ("/api/v1/proposals/{proposal}/vote", api_signed_in(415)),
    "api.evaluate_proposal": ("/api/v1/proposals/{proposal}/evaluate", api_signed_in(415)),
    "api.decide_proposal": ("/api/v1/proposals/{proposal}/decide", api_roles(*STAFF_ROLES, ok=415)),
    "api.open_proposal_vote": ("/api/v1/proposals/{proposal}/vote/open", api_roles(*STAFF_ROLES, ok=415)),
    "api.record_proposal_vote": ("/api/v1/proposals/{proposal}/vote/in-person", api_roles(*STAFF_ROLES, ok=415)),
    "api.close_proposal_vote": ("/api/v1/proposals/{proposal}/vote/close", api_roles(*STAFF_ROLES, ok=409)),  # not voting
    "api.close_proposal_task": ("/api/v1/proposals/tasks/{proposal_task}/done", api_signed_in(415)),
    "api.propose_on_behalf": ("/api/v1/proposals/on-behalf", api_signed_in(415)),
    "api.set_proposal_points": ("/api/v1/proposals/{proposal}/points", api_roles(*STAFF_ROLES, ok=415)),
    "api.set_household_floor_area": ("/api/v1/households/{resident_household}/floor-area",
                                     api_roles(*STAFF_ROLES, ok=415)),
    "api.job_board": ("/api/v1/jobs", api_roles("volunteer", "partner_staff")),
    "api.my_jobs": ("/api/v1/jobs/mine", api_roles("volunteer", "partner_staff")),
    # Taken by the partner above: a volunteer lacks the skill (403), the partner has it already (409);
    # the admin cancelled it above, acting for 张阿姨 (issue 16), so it has moved on (409).
    "api.claim": ("/api/v1/jobs/{service_request}/claim", api_roles("volunteer", "partner_staff", ok=403)
                  | {"partner_staff": 409, "admin": 409}),
    "api.release": ("/api/v1/jobs/{service_request}/release", api_roles("volunteer", "partner_staff", ok=415)),
    "api.mark_done": ("/api/v1/jobs/{service_request}/done", api_roles("volunteer", "partner_staff", ok=415)),
    "api.finish": ("/api/v1/jobs/{service_request}/finish", api_roles("volunteer", "partner_staff", ok=415)),
    "api.balance": ("/api/v1/points", api_signed_in(200)),
    "api.statement": ("/api/v1/points/statement", api_signed_in(200)),
    "api.points_policy": ("/api/v1/points/policy", api_signed_in(200)),
    "api.offers": ("/api/v1/offers", everyone(200)),
    "api.offer": ("/api/v1/offers/{offer}", everyone(200)),
    "api.redeem": ("/api/v1/offers/{offer}/redeem", api_signed_in(400)),  # no Idempotency-Key
    "api.vouchers": ("/api/v1/vouchers", api_signed_in(200)),
    "api.voucher": ("/api/v1/vouchers/{voucher}", api_scope(holder_only(200))),
    "api.cancel_voucher": ("/api/v1/vouchers/{voucher}/cancel", api_scope(holder_only(409))),  # cancelled above
    "api.scan": ("/api/v1/vouchers/scan", api_signed_in(415)),
    "api.list_events": ("/api/v1/events", everyone(200)),
    "api.show_event": ("/api/v1/events/{event}", everyone(200)),
    "api.sign_up": ("/api/v1/events/{event}/signup", api_signed_in(403) | {"volunteer": 200, "admin": 200}),
    "api.cancel_signup": ("/api/v1/events/{event}/signup/cancel", api_signed_in(409) | {"volunteer": 200, "admin": 200}),
    "api.kiosk_check": ("/api/v1/events/checkin", api_signed_in(415)),
    "api.sign_up_for": ("/api/v1/events/{event}/for/{resident}/signup",
                        {**api_signed_in(404), **{who: 403 for who in STAFF_ROLES}}),  # she is no volunteer
    "api.cancel_signup_for": ("/api/v1/events/{event}/for/{resident}/signup/cancel",
                              {**api_signed_in(404), **{who: 409 for who in STAFF_ROLES}}),  # not signed up
    "api.check_in_for": ("/api/v1/events/{event}/for/{resident}/check-in", api_roles(*STAFF_ROLES, ok=403)),  # no volunteer
    "api.check_out_for": ("/api/v1/events/{event}/for/{resident}/check-out", api_roles(*STAFF_ROLES, ok=409)),
    "api.code_check": ("/api/v1/events/{event}/code", api_signed_in(415)),
    "api.record": ("/api/v1/events/record", api_signed_in(200)),
    "api.request_hour_correction": ("/api/v1/events/attendances/{attendance}/correction", api_signed_in(415)),
    "api.my_hour_corrections": ("/api/v1/events/corrections/mine", api_signed_in(200)),
    "api.hour_corrections_to_decide": ("/api/v1/events/corrections", api_roles(*STAFF_ROLES)),
    "api.approve_hour_correction": ("/api/v1/events/corrections/{hour_correction}/approve", api_roles(*STAFF_ROLES, ok=415)),
    "api.decline_hour_correction": ("/api/v1/events/corrections/{hour_correction}/decline", api_roles(*STAFF_ROLES, ok=415)),
    "api.honour_hours_to_approve": ("/api/v1/events/honour-hours", api_roles(*STAFF_ROLES)),
    "api.approve_honour_hours": ("/api/v1/events/honour-hours/{attendance}/approve", api_roles(*STAFF_ROLES, ok=409)),
    "api.event_roster": ("/api/v1/events/{service_day}/roster", api_roles(*STAFF_ROLES)),
    "api.list_notifications": ("/api/v1/notifications", api_signed_in(200)),
    "api.mark_read": ("/api/v1/notifications/{notification}/read", api_scope(holder_only(200))),
    "api.acknowledge": ("/api/v1/notifications/{notification}/acknowledge", api_scope(holder_only(200))),
    "api.get_message_preferences": ("/api/v1/me/message-preferences", api_signed_in(200)),
    "api.put_message_preferences": ("/api/v1/me/message-preferences", api_signed_in(405)),  # the table POSTs; PUT it is
    "api.mark_all_read": ("/api/v1/notifications/read-all", api_signed_in(200)),
    # Personal API tokens on the profile: one's own only.
    "api_tokens.index": ("/account/api-tokens/", signed_in_only(200)),
    "api_tokens.create": ("/account/api-tokens/", signed_in_only(422)),  # no name, no scope
    "api_tokens.revoke": ("/account/api-tokens/{api_token}/revoke", {**signed_in_only(404), "resident": 302}),
    # Events: anyone may look; signing up and the door need an account; running them is staff work.
    "events.index": ("/events/", everyone(200)),
    "events.show": ("/events/{service_day}", everyone(200)),
    "events.sign_up": ("/events/{service_day}/signup", signed_in_only(302)),  # refusals are flashed
    "events.cancel_signup": ("/events/{service_day}/signup/cancel", signed_in_only(302)),
    "events.type_code": ("/events/{service_day}/code", signed_in_only(302)),
    "events.kiosk_door": ("/events/k/{kiosk}", signed_in_only(200)),
    "events.poster_door": ("/events/p/{poster}", signed_in_only(200)),
    "events.manage": ("/events/manage", staff_only(200)),
    "events.new": ("/events/new", organisers_only(200)),
    "events.edit": ("/events/{service_day}/edit", organisers_only(200)),
    "events.publish": ("/events/{service_day}/publish", organisers_only(302)),
    "events.kiosk": ("/events/{service_day}/kiosk", staff_only(200)),
    "events.kiosk_code": ("/events/{service_day}/kiosk/code", staff_only(200)),
    "events.poster": ("/events/{service_day}/poster", staff_only(200)),
    "events.reissue_poster": ("/events/{service_day}/poster/reissue", organisers_only(302)),
    "events.scanner": ("/events/{service_day}/scanner", staff_only(200)),
    "events.scans": ("/events/{service_day}/scans", staff_only(400)),  # a form post, not the scanner's JSON
    "events.service_worker": ("/events/sw.js", everyone(200)),
    "events.roster": ("/events/{service_day}/roster", staff_only(200)),
    "events.roster_csv": ("/events/{service_day}/roster.csv", staff_only(200)),
    "events.check_in_by_hand": ("/events/{service_day}/attendance", staff_only(302)),
    "events.check_out_by_hand": ("/events/attendance/{attendance}/out", staff_only(302)),
    "events.hours": ("/events/hours", signed_in_only(200)),
    "events.certificate": ("/events/certificate", signed_in_only(200)),
    "events.badge": ("/events/badge", signed_in_only(200)),
    "events.badge_door": ("/events/b/{badge}", signed_in_only(200)),
    "events.volunteer": ("/events/volunteers/{volunteer}", staff_only(200)),
    "events.volunteer_certificate": ("/events/volunteers/{volunteer}/certificate", staff_only(200)),
    "events.replace_badge": ("/events/badge/replace", signed_in_only(302)),
    "events.revoke_badge": ("/events/volunteers/{volunteer}/badge/replace", organisers_only(302)),
    "events.ask_correction": ("/events/hours/{attendance}/correction", {**signed_in_only(404), "volunteer": 200}),
    "events.corrections": ("/events/corrections", staff_only(200)),
    "events.correction_photo": ("/events/corrections/{hour_correction}/photo", signed_in_only(404)),  # none sent
    "events.approve_correction": ("/events/corrections/{hour_correction}/approve", staff_only(302)),  # decided
    "events.decline_correction": ("/events/corrections/{hour_correction}/decline", staff_only(302)),
    "events.approve_honour": ("/events/attendance/{attendance}/honour/approve", staff_only(302)),  # not waiting
    "events.cancel": ("/events/{service_day}/cancel", organisers_only(302)),  # last: it ends the event
}

# These end the session, so they run last, each from a fresh login.
SIGNS_OUT = ("users.logout_everywhere", "users.logout")


def demo_ids(app) -> dict:
    def user(role):
        return User.get(User.phone == DEMO_PHONES[role]).id

    with app.app_context():
        partner = PartnerEnterprise.get(PartnerEnterprise.name == "北苑五金维修店")
        PartnerInvite.create(
            partner=partner,
            token_hash=hashlib.sha256(INVITE_TOKEN.encode()).hexdigest(),
            expires_at=utcnow() + timedelta(days=1),
        )
        return {
            "invite": INVITE_TOKEN,
            "item": ServiceItem.select().order_by(ServiceItem.id).first().id,
            "grid": Grid.get(Grid.code == "bj_g1").id,
            "partner": partner.id,
            "pending_residency": ResidencyApplication.get(ResidencyApplication.status == "pending").id,
            "volunteer_application": VolunteerApplication.get(VolunteerApplication.user == user("volunteer")).id,
            "resident": user("resident"),
            "resident_household": RoleGrant.get(RoleGrant.user == user("resident"), RoleGrant.role == "resident").household_id,
            "volunteer": user("volunteer"),
            "volunteer_grant": RoleGrant.get(RoleGrant.user == user("volunteer"), RoleGrant.role == "volunteer").id,
            "invite_id": PartnerInvite.get(PartnerInvite.token_hash == hashlib.sha256(INVITE_TOKEN.encode()).hexdigest()).id,
            "workday_override": WorkdayOverride.create(day=date(2027, 1, 1), is_workday=False, note="元旦").id,
            "fund_use": FundUse.create(community=partner.community_id, spent_on=date(2026, 11, 1), purpose="路灯维修",
                                       amount_fen=12000, approved_by="居委会", created_by=user("admin")).id,
            **_proposals(),
            **_api_ids(app, user),
            **_points_and_requests(app, user),
            **_events(app),
            **_on_behalf(app, user),
        }


def _on_behalf(app, user) -> dict:
    """A request 孙楼长 made for 张阿姨: its receipt."""
    from marketplace.proxy.models import ProxyAct
    from marketplace.service_requests import services as requests

    with app.test_request_context():
        req = requests.book(User.get_by_id(user("resident")), ServiceItem.get(ServiceItem.code == "companionship_visit").id,
                            "想找人陪着聊聊天", actor=User.get_by_id(user("building_head")))
        return {"proxy_act": ProxyAct.get(ProxyAct.request == req.id).id}
def _proposals() -> dict:
    """The demo's matters (marketplace/proposals/demo.py): one under discussion, one done."""
    from marketplace.proposals.demo import DONE_TITLE, OPEN_TITLE
    from marketplace.proposals.models import Proposal, ProposalTask, ProposalUpdate

    done = Proposal.get(Proposal.title.in_(DONE_TITLE))
    return {
        "proposal": Proposal.get(Proposal.title.in_(OPEN_TITLE)).id,
        "proposal_done": done.id,
        "proposal_task": ProposalTask.get(ProposalTask.proposal == done.id).id,
        "proposal_update": ProposalUpdate.get(ProposalUpdate.proposal == done.id).id,
    }


def _events(app) -> dict:
    """The demo service day under way, its kiosk and poster codes, an attendance and a badge."""
    from marketplace.events import services as events
    from marketplace.events import tokens
    from marketplace.events.models import Attendance, Event
    from tests.events.test_events_pages import SERVICE_DAY

    with app.test_request_context():
        event = Event.get(Event.title == SERVICE_DAY)
        volunteer = User.get(User.phone == DEMO_PHONES["volunteer"])
        # On another demo event, so that the API rows can still cancel the volunteer's sign-up here.
        other = Event.select().where(Event.id != event.id).order_by(Event.id).first()
        attendance = Attendance.create(event=other, user=volunteer, checked_in_at=utcnow() - timedelta(hours=1),
                                       in_method="manual")
        from marketplace.events.models import HourCorrection

        declined = HourCorrection.create(  # already answered: deciding again only says so
            attendance=attendance, user=volunteer, checked_in_at=attendance.checked_in_at,
            checked_out_at=utcnow(), reason="table", status="declined", old_checked_in_at=attendance.checked_in_at,
            old_checked_out_at=utcnow(), old_minutes=0, old_points=0, decision_note="table")
        return {
            "hour_correction": declined.id,
            "service_day": event.id,
            "kiosk": tokens.kiosk_token(event.id, "in"),
            "poster": tokens.poster_token(event.id, event.poster_version),
            "badge": events.badge_token_of(volunteer),
            "attendance": attendance.id,
        }


def _points_and_requests(app, user) -> dict:
    """A voucher, a pending adjustment and listing, and an open request with a photo, all 张阿姨's."""
    import io

    from PIL import Image

    from marketplace.ledger import adjustments
    from marketplace.ledger import services as ledger
    from marketplace.service_requests import services as requests
    from marketplace.shop import services as shop
    from marketplace.shop.models import Offer

    resident = User.get_by_id(user("resident"))
    with app.test_request_context():
        app.config["ADJUSTMENT_APPROVAL_THRESHOLD"] = 0  # so it waits for a second approval
        account = ledger.user_account(resident)
        offer = Offer.get(Offer.title.startswith("免费磨刀"))
        photo = io.BytesIO()
        Image.new("RGB", (8, 8), "green").save(photo, "PNG")
        listing = shop.list_second_hand_item(resident, {
            "title": "旧台灯", "price": 5, "stock": 1, "valid_from": shop.today_local(),
            "valid_until": shop.today_local() + timedelta(days=7)})
        return {
            "resident_account": account.id,
            "offer": offer.id,
            "voucher": shop.redeem(resident, offer.id, "access-table").id,
            "adjustment": adjustments.request_adjustment(
                User.get(User.phone == DEMO_PHONES["community_admin"]), account.id, "credit", 5, "table").id,
            "listing": listing.id,
            "service_request": requests.book(
                resident, ServiceItem.get(ServiceItem.code == "plumbing_electrical").id, "水管漏水", photo=photo.getvalue()).id,
        }


def _api_ids(app, user) -> dict:
    """A published event, a notification and an API token, for the API's rows."""
    from marketplace.events.models import Event
    from marketplace.notifications.services import notify
    from marketplace.users.tokens import create_token

    with app.test_request_context():
        resident = User.get_by_id(user("resident"))
        return {
            "event": Event.select().where(Event.status == "published").order_by(Event.id.desc()).first().id,
            "notification": notify(resident, "other", "access table").id,
            "api_token": create_token(resident, "access table", ["read"])[0].id,
        }


# ---- the test ---------------------------------------------------------------------------------


def _outcome(response):
    if response.status_code == 302:
        target = urlparse(response.location)
        if target.path == "/login" and "next=" in target.query:
            return LOGIN
    return response.status_code


# Rows a GET may legitimately write: the audit trail of staff looking at personal data, the
# "last seen" time of a login session, and a volunteer's badge, issued the first time they open it.
WRITTEN_BY_READING = {AuditLog, AuditHead, LoginSession, Badge}


def row_fingerprint() -> dict:
    """Each table's row count and highest id, but for the tables a GET may write."""
    return {model._meta.table_name: (model.select().count(), model.select(pw.fn.MAX(model.id)).scalar())
            for model in ALL_MODELS if model not in WRITTEN_BY_READING}


WRITE = re.compile(r'^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
MAY_BE_WRITTEN_BY_READING = {model._meta.table_name for model in WRITTEN_BY_READING}


def tables_written(statements) -> list[str]:
    """The tables the statements write, but those a reading may write."""
    return [found.group(1) for sql in statements if (found := WRITE.match(sql))
            and found.group(1) not in MAY_BE_WRITTEN_BY_READING]


def _security_header_faults(path, response, signed_in) -> list[str]:
    headers, faults = response.headers, []
    if response.mimetype == "text/html":
        csp = headers.get("Content-Security-Policy", "")
        for part in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'self'",
                     "form-action 'self'"):
            if part not in csp:
                faults.append(f"{path}: CSP lacks {part}")
        if "'unsafe-inline'" in csp:
            faults.append(f"{path}: CSP allows inline script")
        if headers.get("X-Content-Type-Options") != "nosniff" or not headers.get("Referrer-Policy"):
            faults.append(f"{path}: nosniff or Referrer-Policy missing")
    if signed_in and headers.get("Cache-Control") != "no-store":
        faults.append(f"{path}: signed in, but may be cached ({headers.get('Cache-Control')})")
    return faults


@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_route_answers_every_identity_as_the_table_says(app, client, auth, identity):
    methods = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            methods.setdefault(rule.endpoint, set()).update(rule.methods)
    no_row = sorted(methods.keys() - ROUTES.keys())
    no_route = sorted(ROUTES.keys() - methods.keys())

    ids = demo_ids(app)
    signed_in = identity != "anonymous"
    if signed_in:
        auth.login_as(identity)
    token = csrf_token(client, "/")  # one per session: Flask-WTF accepts it for every form of it
    wrong, headers, writing = {}, [], {}
    for endpoint in sorted(ROUTES.keys() & methods.keys(), key=lambda e: (e in SIGNS_OUT, list(ROUTES).index(e))):
        template, expected = ROUTES[endpoint]
        path = template.format(**ids)
        if endpoint in SIGNS_OUT:
            if signed_in:
                client.post("/logout", data={"csrf_token": token})
                auth.login_as(identity)
            token = csrf_token(client, "/")
        if "GET" in methods[endpoint]:
            with sql_sent() as statements:
                method, response = "GET", client.get(path)
            headers += _security_header_faults(path, response, signed_in)
            if written := tables_written(statements):
                writing[path] = sorted(set(written))
        else:
            method, response = "POST", client.post(path, data={"csrf_token": token})
        got = _outcome(response)
        if got != expected[identity]:
            wrong[endpoint] = f"{method} {path}: expected {expected[identity]}, got {got}"
    # All at once, so a missing row does not hide a wrong answer.
    problems = [f"no row in ROUTES for the route {e}" for e in no_row]
    problems += [f"a row in ROUTES for {e}, which is no longer a route" for e in no_route]
    problems += [f"{identity}: {e}: {message}" for e, message in wrong.items()]
    problems += [f"{identity}: GET {path} wrote to {', '.join(tables)}" for path, tables in writing.items()]
    problems += [f"{identity}: {fault}" for fault in headers]
    assert not problems, "\n".join(problems)


def test_the_write_detector_sees_inserts_updates_and_deletes_but_not_the_audit_trail(ctx):
    """The no-GET-writes check above is only as good as what it recognises."""
    item = ServiceItem.select().first()
    with sql_sent() as statements:
        ServiceItem.update(name_en=item.name_en).where(ServiceItem.id == item.id).execute()
        Grid.delete().where(Grid.id == -1).execute()
        AuditLog.select().count()
        db.execute_sql('UPDATE "login_session" SET last_seen_at = last_seen_at WHERE id = -1')
    assert tables_written(statements) == ["service_item", "grid"]
