"""The one error type services raise. Its message is already translated and safe to show."""


class DomainError(Exception):
    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.field = field  # the form field the message belongs to, if any
        self.status = status
