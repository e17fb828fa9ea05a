"""Getting back in from the phone app: a code by SMS, then a new password with it (or with the
code staff handed over in person). Anonymous, as the person cannot log in."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from marketplace.access import PUBLIC
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
