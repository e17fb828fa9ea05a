"""My data: the person's copy of what the site holds about them, as a page to print and as JSON."""

import json

from flask import Blueprint, Response, render_template
from flask_login import current_user

from marketplace.access import SIGNED_IN, allow
from marketplace.rights import services

bp = Blueprint("rights", __name__, url_prefix="/account")


@bp.route("/my-data")
@allow(SIGNED_IN)
def my_data():
    return render_template("rights/my_data.html", data=services.personal_data(current_user))


@bp.route("/my-data.json")
@allow(SIGNED_IN)
def my_data_json():
    body = json.dumps(services.personal_data(current_user), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": "attachment; filename=my-data.json"})
