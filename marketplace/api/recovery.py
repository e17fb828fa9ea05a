"""Getting back in from the phone app: a code by SMS, then a new password with it (or with the
code staff handed over in person). Anonymous, as the person cannot log in. And proving a number
with the same codes: signing up, and moving one's login to a new number."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from marketplace.access import PUBLIC, SIGNED_IN
from marketplace.api.registry import component, operation
from marketplace.api.schema import Fields, String
from marketplace.users import services

DONE = component("Done", {"type": "object", "required": ["message"], "properties": {
    "message": {"type": "string", "description": "What happened, in the request's language."}}})


def _phone_key() -> str:
    from flask import request

    raw = request.get_json(silent=True) if request.is_json else None
    phone = str((raw or {}).get("phone", ""))[:30] if isinstance(raw, dict) else ""
    try:
        return "api-recovery-phone:" + services.normalize_phone(phone)
    except Exception:  # noqa: BLE001 - any malformed number shares one count
        return "api-recovery-phone:" + phone.strip()[:20]


def _locale() -> str | None:
    from flask_babel import get_locale

    return str(get_locale() or "") or None


def _caller_key() -> str:
    from marketplace.api.auth import rate_limit_key

    return "api-phone-change:" + rate_limit_key()


PHONE = String(_l("The mainland mobile number of the account."), required=True, maxLength=30,
               required_message=_l("Please enter your mobile number."))


@operation("POST", "/password/code", summary="Send a code to set a new password", tag="account",
           allow=(PUBLIC,), response=DONE, status=202, body=Fields(phone=PHONE),
           limits=[(lambda: current_app.config["RECOVERY_CODES_PER_ADDRESS"],
                    lambda: "api-recovery-ip:" + get_remote_address()),
                   (lambda: current_app.config["RECOVERY_CODES_PER_NUMBER"], _phone_key)])
def request_password_code(user, phone):
    """A 6-digit code by text message, valid 10 minutes, if an account uses the number. The
    answer is the same whether or not one does, so it tells no one which numbers are registered;
    limited per number and per address."""
    services.request_reset_code(phone)
    return {"message": str(_l("If an account uses this number, we have sent it a 6-digit code by text message. "
                              "It works for 10 minutes."))}, 202


@operation("POST", "/password/reset", summary="Set a new password with a one-time code", tag="account",
           allow=(PUBLIC,), response=DONE,
           body=Fields(phone=PHONE,
                       code=String(_l("The code from the text message, or from the slip staff gave in person."),
                                   required=True, maxLength=12, required_message=_l("Please enter the code.")),
                       new_password=String(_l("The new password: 8 to 64 characters, not a common one."),
                                           required=True, maxLength=200,
                                           required_message=_l("Please choose a new password."))),
           limits=[(lambda: current_app.config["LOGIN_RATE_LIMIT"], lambda: "api-reset-ip:" + get_remote_address())])
def reset_password_with_code(user, phone, code, new_password):
    """Every session and API token of the account ends; log in again (or make a new token) with
    the new password. A code works once and stops after 5 wrong tries."""
    services.reset_with_code(phone, code, new_password)
    return {"message": str(_l("Your password has been changed and every device and app was logged out. Please "
                              "log in with your new password."))}


# ---- proof of the number: sign-up and a phone change ----------------------------------------

CODE = String(_l("The 6-digit code from the text message."), required=True, maxLength=12,
              required_message=_l("Please enter the code."))


@operation("POST", "/signup/code", summary="Send a code to prove the number before signing up", tag="account",
           allow=(PUBLIC,), response=DONE, status=202, body=Fields(phone=PHONE),
           limits=[(lambda: current_app.config["SIGNUP_RATE_LIMIT"],
                    lambda: "api-signup-ip:" + get_remote_address()),
                   (lambda: current_app.config["RECOVERY_CODES_PER_NUMBER"], _phone_key)])
def request_signup_code(user, phone):
    """A 6-digit code by text message, valid 10 minutes. A number that already has an account is
    sent a message telling its owner someone tried, and the answer here is the same, so it tells
    no one which numbers are registered; limited per number and per address. Nothing is created."""
    services.request_signup_code(phone, locale=_locale())
    return {"message": str(_l("We have sent a text message to this number. Type the 6-digit code from it; it works "
                              "for 10 minutes. If the number already has an account, the message says so: then "
                              "please log in."))}, 202


@operation("POST", "/signup", summary="Open an account with the code sent to the number", tag="account",
           allow=(PUBLIC,), response=DONE, status=201,
           body=Fields(phone=PHONE, code=CODE,
                       display_name=String(_l("Your name, as neighbours and staff will see it."), required=True,
                                           maxLength=50, required_message=_l("Please tell us your name.")),
                       password=String(_l("8 to 64 characters, not a common one."), required=True, maxLength=200,
                                       required_message=_l("Please choose a password."))),
           limits=[(lambda: current_app.config["LOGIN_RATE_LIMIT"], lambda: "api-signup-ip:" + get_remote_address())])
def confirm_signup(user, phone, code, display_name, password):
    """The account exists only once the code sent to the number is given; then log in (or make a
    token) with the number and password. A code works once and stops after 5 wrong tries."""
    services.confirm_sign_up(phone, code, display_name, password, locale=_locale())
    return {"message": str(_l("Your account is ready. Please log in with your mobile number and password."))}, 201


@operation("POST", "/me/phone/code", summary="Send a code to a new mobile number", tag="account",
           allow=(SIGNED_IN,), response=DONE, status=202,
           body=Fields(phone=String(_l("The new mainland mobile number."), required=True, maxLength=30,
                                    required_message=_l("Please enter your new mobile number.")),
                       password=String(_l("Your password."), required=True, maxLength=200,
                                       required_message=_l("Please enter your password."))),
           limits=[(lambda: current_app.config["RECOVERY_CODES_PER_ADDRESS"], _caller_key)])
def request_phone_change_code(user, phone, password):
    """Needs the account's password; the code goes to the NEW number, valid 10 minutes. Nothing
    changes until it is confirmed."""
    services.request_phone_change_code(user, phone, password)
    return {"message": str(_l("We have sent a 6-digit code to your new number. Type it below; it works for 10 "
                              "minutes."))}, 202


@operation("POST", "/me/phone", summary="Change my mobile number with the code sent to it", tag="account",
           allow=(SIGNED_IN,), response=DONE,
           body=Fields(phone=String(_l("The new mainland mobile number the code was sent to."), required=True,
                                    maxLength=30, required_message=_l("Please enter your new mobile number.")),
                       code=CODE),
           limits=[(lambda: current_app.config["LOGIN_RATE_LIMIT"], _caller_key)])
def confirm_phone_change(user, phone, code):
    """The login moves to the new number; every other session and every API token ends (this one
    too), and the old number is told by text message. A code stops after 5 wrong tries."""
    services.confirm_phone_change(user, phone, code)
    return {"message": str(_l("Your mobile number has been changed. Other devices and apps have been logged out."))}
