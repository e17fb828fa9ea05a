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
