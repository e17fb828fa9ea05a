"""The three pages each kind of person opens most, kept in view on a phone's header while the
rest of the navigation waits behind the menu button (issue 21: the first screen shows content)."""

from flask_babel import lazy_gettext as _l

from marketplace import access

_LINKS = {
    "requests": ("service_requests.mine", _l("My requests")),
    "menu": ("menu.index", _l("Service menu")),
    "events": ("events.index", _l("Events")),
    "points": ("ledger.mine", _l("My points")),
    "jobs": ("service_requests.board", _l("Job board")),
    "voucher": ("shop.scan", _l("Take a voucher")),
    "queue": ("staff.queue", _l("Work queue")),
    "overview": ("service_requests.overview", _l("Requests")),
    "people": ("staff.people", _l("People")),
    "account": ("users.account", _l("My account")),
    "login": ("users.login", _l("Log in")),
}


def quick_links(user) -> list[tuple[str, str]]:
    """(endpoint, label) of the person's three most used pages, by their busiest role."""
    if user is None or not user.is_authenticated:
        keys = ("menu", "events", "login")
    elif access.is_staff(user):
        keys = ("queue", "overview", "people")
    elif access.has_role(user, "partner_staff"):
        keys = ("jobs", "voucher", "points")
    elif access.has_role(user, "volunteer"):
        keys = ("jobs", "events", "points")
    elif access.has_role(user, "resident"):
        keys = ("requests", "menu", "points")
    else:
        keys = ("menu", "events", "account")
    return [_LINKS[key] for key in keys]
