"""The error types: `DomainError`, the one type services raise, and `ApiError`, what the JSON
API raises about a request itself (its headers, body, token).

A DomainError's message is already translated and safe to show; its `code` is stable and
machine-readable (`job_taken`, `voucher_already_used`, ...), so an app can tell one refusal from
another of the same status without reading the words. The API returns it in its error body and
lists the codes of each operation in its OpenAPI document.
"""

# A code for each status when a raise site names none (every raise site does; see the test
# tests/test_error_codes.py), and for the errors that do not come from a service.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


# Every code an error may carry, with what it means for a program. The API's OpenAPI document
# shows these words beside each operation's codes; a test holds every raise site to this list.
CODES = {
    # the request itself, whatever the operation
    "bad_request": "The request was not understood (not JSON, a malformed header).",
    "unauthorized": "No valid token or session.",
    "invalid_token": "The API token is not valid or was revoked.",
    "insufficient_scope": "The token lacks the scope this operation needs.",
    "csrf_failed": "A session's POST without a valid X-CSRFToken header.",
    "forbidden": "The caller may not do this.",
    "not_found": "Not found, or not the caller's to see.",
    "method_not_allowed": "The path exists for another method.",
    "conflict": "The state has moved on; look again.",
    "gone": "No longer valid.",
    "too_large": "The body (a photo) is too large.",
    "unsupported_media_type": "The body is not JSON.",
    "invalid": "Some input is not right; `fields` says which.",
    "invalid_cursor": "The cursor was not made by us; start from the first page.",
    "rate_limited": "Too many requests; Retry-After says when to try again.",
    "idempotency_key_reused": "The Idempotency-Key was already used for a different request.",
    "idempotency_in_progress": "A request with this Idempotency-Key is still being processed.",
    "server_error": "Something went wrong on the server.",
    "unavailable": "The database is busy; try again after Retry-After seconds.",
    # people and their accounts
    "wrong_credentials": "The phone number or password is not right.",
    "wrong_password": "The current password is not right.",
    "weak_password": "The new password is too short, too long or too easy to guess.",
    "phone_taken": "The mobile number belongs to another account.",
    "wrong_one_time_code": "The one-time code is not right, was used, or has expired.",
    "too_many_attempts": "Too many wrong passwords from this address; wait, or reset the password.",
    "account_inactive": "The account is switched off.",
    "not_verified": "Only verified residents may do this.",
    "already_applied": "An application is already waiting for an answer.",
    "already_verified": "Already verified in this household.",
    "already_volunteer": "Already a volunteer.",
    "already_decided": "The application, adjustment, hour correction or family link was already decided.",
    "already_granted": "The person already has this role here.",
    "admins_only": "Only an administrator may do this.",
    "staff_only": "Only community staff may do this.",
    "organisers_only": "Only the event's organisers (its community's administrators) may do this; door helpers may not.",
    "own_account": "Not on one's own account or role.",
    "last_admin": "There must always be at least one administrator.",
    "matters_open": "A request waits for a confirmation or for staff: settle it before closing the account.",
    "staff_account": "A staff account is closed by an administrator, not by itself.",
    "invitation_used": "The invitation was already used.",
    "invitation_expired": "The invitation has expired.",
    "too_many_tokens": "Too many API tokens; revoke one first.",
    "out_of_scope": "Outside the places the caller looks after.",
    "not_linked": "The caller may not act for this person: not staff in scope, nor a family member they consented to.",
    "already_linked": "The family member may already act for this person.",
    "not_allowed": "This action does not fit this object.",
    # messages and their channels
    "bad_channel": "Not a channel one can choose (sms, wechat).",
    "bad_quiet_hours": "Quiet hours are two times of day, HH:MM, both or neither.",
    "call_recorded": "The call's outcome was already recorded.",
    "bad_call_outcome": "Not a call outcome (reached, no_answer, wrong_number, visited).",
    "bad_receipt_signature": "The delivery receipt's signature is not right.",
    # service requests and jobs
    "job_taken": "Someone else took the job first.",
    "state_changed": "The request has moved on to another state; look again.",
    "own_request": "One cannot take one's own request.",
    "skills_needed": "The job needs a helper with other skills.",
    "wrong_code": "The resident's or the door's code is not right.",
    "too_many_wrong_codes": "Too many wrong codes: the code no longer works.",
    "not_finished": "The service is not finished yet.",
    "already_rated": "The service was already rated.",
    "no_open_clock": "Nothing of this kind (solve, feedback, explain) is waiting for an answer on the matter.",
    "reopen_pending": "The resident already asked to reopen the matter; staff have not decided yet.",
    "reopen_closed": "The matter is not finished, or closed more than 14 days ago: it cannot be reopened.",
    "no_reopen_pending": "No request to reopen the matter is waiting for a decision.",
    # points
    "not_enough_points": "The balance is too low.",
    "not_reversible": "Only earnings and adjustments can be reversed.",
    "already_reversed": "The transfer was already reversed.",
    "idempotency_key_conflict": "The key of this operation was already used for a different one.",
    "second_approver_needed": "Another staff member must approve this adjustment (or decide on one's own hours).",
    # the shop
    "offer_unavailable": "The offer cannot be redeemed now.",
    "own_offer": "One cannot buy one's own item.",
    "sold_out": "The offer is sold out.",
    "limit_reached": "The caller already holds as many of this offer as one person may.",
    "already_reviewed": "The listing was already reviewed.",
    "voucher_not_found": "No voucher has this code.",
    "voucher_other_shop": "The voucher is for another shop; nothing was charged.",
    "voucher_already_used": "The voucher was already used; nothing was charged again.",
    "voucher_expired": "The voucher has expired; its points went back.",
    "voucher_cancelled": "The voucher was cancelled by its holder.",
    "voucher_not_cancellable": "The voucher can no longer be cancelled.",
    # events and the door
    "event_cancelled": "The event was cancelled.",
    "event_not_open": "The event is not open.",
    "event_not_begun": "The event has not begun yet.",
    "event_over": "The event is over.",
    "event_under_way": "People have checked in: this can no longer change.",
    "already_published": "The event is already published or cancelled.",
    "already_cancelled": "Already cancelled.",
    "places_taken": "More people already have a place than that.",
    "volunteers_only": "Only volunteers may do this.",
    "not_signed_up": "Not signed up (or only on the waiting list) for this event.",
    "already_checked_in": "Already checked in at this event.",
    "not_checked_in": "Not checked in, so no check-out.",
    "already_checked_out": "Already checked out.",
    "check_in_not_open": "Check-in has not opened yet.",
    "check_in_closed": "Check-in is closed.",
    "check_out_closed": "Check-out is closed; the staff will confirm the hours.",
    "check_out_before_check_in": "A check-out cannot be before the check-in.",
    "invalid_code": "This is not a code of ours (or the wrong kind of code).",
    "code_expired": "The code or poster has expired; scan the current one.",
    "badge_invalid": "The badge is not valid.",
    "badge_replaced": "The badge was replaced and no longer works.",
    "scan_refused": "A re-sent scan that was refused the first time.",
    "scan_too_old": "The queued scan is too old to record.",
    "hours_not_counted": "The attendance's hours are not counted yet, so they cannot be corrected.",
    "correction_pending": "A correction of these hours is already waiting for an answer.",
    # matters the residents decide together (proposals)
    "already_voted": "The household has already voted on this matter: one vote per household.",
    "vote_closed": "The matter is not open for voting (not yet, or no longer).",
    "vote_still_open": "The vote is still open: it is counted when its period ends or every household has voted.",
    "already_evaluated": "The household has already evaluated this matter.",
    # care for key groups
    "already_registered": "The resident is already on the key-group register in this group.",
    "pair_state_changed": "The care pair is no longer in a state that allows this.",
    "visit_already_confirmed": "The care visit was already confirmed; nothing was paid again.",
    "visit_not_due": "The care visit is due on a later day; it is confirmed on its day.",
    "visit_day_passed": "The care visit's day has passed; staff record it after a phone call.",
    # the back office
    "code_taken": "Another item already uses this code.",
    "name_taken": "Another partner already has this name.",
    "personal_data": "The public board must not show personal data.",
    "already_withdrawn": "Already withdrawn.",
    "edit_conflict": "Someone else changed this just now.",
}


class DomainError(Exception):
    def __init__(self, message: str, field: str | None = None, status: int = 400, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field  # the form field the message belongs to, if any
        self.status = status
        # A 400 from a service refuses input that was well-formed: "invalid", as the API's 422.
        self.code = code or ("invalid" if status == 400 else STATUS_CODES.get(status, "error"))


class ApiError(Exception):
    """An error the API itself gives (not a service's refusal): a bad header, body or token."""

    def __init__(self, status: int, message: str, code: str | None = None, fields: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or STATUS_CODES.get(status, "error")
        self.fields = fields or {}
        self.headers = headers or {}
