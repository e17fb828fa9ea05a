"""The OpenAPI 3.1 document, built from the route declarations in registry.py, and a reference
page made from it on the server (no CDN, no script: the site's CSP allows neither)."""

import re

from flask import current_app, jsonify, render_template
from markupsafe import Markup, escape

from marketplace.access import PUBLIC, allow
from marketplace.api import auth
from marketplace.api.registry import COMPONENTS, IDEMPOTENCY_KEY, OPERATIONS, bp
from marketplace.api.schema import MAX_ID, PAGE_FIELDS, Fields, QueryForm, query_parameters
from marketplace.errors import CODES

DESCRIPTIONS = {
    200: "OK.",
    201: "Created.",
    400: "Not understood: the body is not a JSON object, the Idempotency-Key is malformed or missing, or the "
         "session's CSRF header is missing (`csrf_failed`).",
    401: "No valid token or session (`unauthorized`, `invalid_token`).",
    403: "The token lacks the scope (`insufficient_scope`), or the person may not do this.",
    404: "Not found, or not the caller's to see.",
    409: "The state has moved on (someone else was first), or the same Idempotency-Key is still being processed.",
    410: "No longer valid (an expired check-in code, an outdated poster).",
    413: "The body (a photo) is too large.",
    415: "The body is not JSON.",
    422: "Some input is not right: `fields` says which and why, in the same words as the web pages; or the "
         "Idempotency-Key was used for a different request (`idempotency_key_reused`).",
    429: "Too many requests (per token); Retry-After says when to try again.",
    503: "The database is busy; try again after Retry-After seconds.",
}

INTRO = """The community service marketplace's API for phone apps and mini-programs. It calls the same
services as the web pages: the same rules, the same messages.

**Authentication.** Send a personal token, made on the web site under *Account → API tokens*, as
`Authorization: Bearer mkt_...`. Each token has scopes (below); a request outside them gets 403
`insufficient_scope`. Pages of the same site may instead use the signed-in session, with the page's
CSRF token in an `X-CSRFToken` header on every POST.

**Errors** always look like `{"error": {"code": "invalid", "message": "...", "fields": {"description": "..."}}}`.
`code` is stable and meant for programs (`job_taken`, `voucher_already_used`, `not_enough_points`, ...):
each operation lists the codes it may answer, per status, in its answers and in `x-error-codes`.
`message` and `fields` are in the request's language (`Accept-Language: zh-CN` or `en`).

**Lists** are paged with a cursor: pass a page's `next_cursor` as `cursor` to get the next one
(`limit` 1 to 100, default 20); `next_cursor` is null on the last page.

**Retries.** Send an `Idempotency-Key` header (1 to 100 visible ASCII characters, e.g. a UUID) with
every POST: a retry with the same key gets the first answer (with `Idempotent-Replayed: true`) and
changes nothing again. It is required to redeem an offer. Keys are kept for 24 hours.

**Rate limits** count per token; a 429 carries Retry-After.
"""


def _path_parameter(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}


def _idempotency_header(required: bool) -> dict:
    return {"name": "Idempotency-Key", "in": "header", "required": required,
            "description": "Makes a retry safe: the same key gets the first answer.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": IDEMPOTENCY_KEY.pattern}}


def _operation(op) -> dict:
    parameters = [_path_parameter(name) for name in op.path_params]
    if isinstance(op.query, QueryForm):
        parameters += op.query.parameters()
    elif isinstance(op.query, Fields):
        parameters += query_parameters(op.query)
    if op.paginated:
        parameters += query_parameters(Fields(**PAGE_FIELDS))
    if op.method == "POST":
        parameters.append(_idempotency_header(op.key_required))
    success = {"description": DESCRIPTIONS.get(op.status, "OK.")}
    if op.response is not None:
        success["content"] = {"application/json": {"schema": op.response}}
    responses = {str(op.status): success}
    error_codes = op.error_codes()
    for status, codes in error_codes.items():
        listed = ", ".join(f"`{code}`" for code in codes)
        responses[str(status)] = {"description": f"{DESCRIPTIONS.get(status, 'Error.')} Codes: {listed}.",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    spec = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if op.description:
        spec["description"] = op.description
    if op.body is not None:
        schema = op.body.json_schema()
        spec["requestBody"] = {"required": bool(schema.get("required")),
                               "content": {"application/json": {"schema": schema}}}
    if op.public:
        spec["security"] = [{}, {"bearerToken": []}, {"session": []}]
    else:
        spec["security"] = [{"bearerToken": [op.scope] if op.scope else []}, {"session": []}]
    if op.scope:
        spec["x-scope"] = op.scope
    # Every code the error body may carry, for programs that branch on it.
    spec["x-error-codes"] = [{"code": code, "status": status, "description": CODES[code]}
                             for status, codes in error_codes.items() for code in codes]
    return spec


def build() -> dict:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = _operation(op)
    error_schema = {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "What went wrong, for programs; stable. Each operation "
                         "lists its codes in its answers and in `x-error-codes`: " + ", ".join(sorted(CODES))},
                "message": {"type": "string", "description": "For people, in the request's language."},
                "fields": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "Input name -> what is wrong with it."},
            },
        }},
    }
    scopes = "\n".join(f"- `{name}`: {label}" for name, label in auth.SCOPES.items())
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{current_app.config['COMMUNITY_NAME']} community service marketplace API",
                 "version": "1.0.0", "description": INTRO + "\n**Scopes**\n\n" + scopes},
        "paths": paths,
        "components": {
            "schemas": {**COMPONENTS, "Error": error_schema},
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "A personal API token from Account → API tokens."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "The web site's signed-in session; POSTs also need X-CSRFToken."},
            },
        },
    }


@bp.route("/openapi.json")
@allow(PUBLIC)
def openapi_json():
    response = jsonify(build())
    response.headers["Cache-Control"] = "no-cache"
    return response


TAG_ORDER = ("menu", "requests", "jobs", "events", "points", "shop", "notifications", "account")


def markdown_lite(text: str) -> Markup:
    """The few Markdown marks the document's description uses (**bold**, `code`, *em*, "- "
    lists, blank-line paragraphs), for the reference page; everything else is escaped."""
    blocks = []
    for block in text.strip().split("\n\n"):
        lines = block.strip().splitlines()
        if lines and all(line.startswith("- ") for line in lines):
            blocks.append("<ul>" + "".join(f"<li>{_inline(line[2:])}</li>" for line in lines) + "</ul>")
        else:
            blocks.append(f"<p>{_inline(' '.join(lines))}</p>")
    return Markup("\n".join(blocks))


def _inline(text: str) -> str:
    html = str(escape(text))
    html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
    html = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", html)


def _rows(spec: dict) -> list[dict]:
    """The operations grouped by tag, in declaration order, for the reference page."""
    groups: dict[str, list] = {tag: [] for tag in TAG_ORDER}
    for op in OPERATIONS:
        item = spec["paths"][op.openapi_path][op.method.lower()]
        body = item.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        groups.setdefault(op.tag, []).append({"op": op, "spec": item, "body": body})
    return [(tag, rows) for tag, rows in groups.items() if rows]


@bp.route("/docs")
@allow(PUBLIC)
def docs():
    spec = build()
    return render_template("api/docs.html", spec=spec, groups=_rows(spec), scopes=auth.SCOPES,
                           descriptions=DESCRIPTIONS, intro=markdown_lite(spec["info"]["description"]), components=spec["components"]["schemas"],
                           inline=lambda text: Markup(_inline(text)))
