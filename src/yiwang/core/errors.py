"""Errors people can act on: a Chinese message naming the field (and row, for imports).

Actions raise ``ActionError`` (bad input) or ``PermissionRefused`` (not allowed); views, the API and the
CLI turn them into a form error, a 400/403 JSON body or a printed line. Outside-scope objects never
reach an action: lookups through ``visible_to`` raise 404 first.
"""
from django.core.exceptions import ValidationError


class ActionError(ValidationError):
    """Invalid input for an action. ``field`` names the offending field (None for the whole form)."""

    def __init__(self, message, *, field=None, code="invalid"):
        self.field = field
        if field:
            super().__init__({field: [ValidationError(message, code=code)]})
        else:
            super().__init__(message, code=code)
        self.text = message

    def __str__(self):
        return f"{self.field}: {self.text}" if self.field else self.text


class PermissionRefused(Exception):
    """The user may not perform this action (a refusal is audited before this is raised)."""

    def __init__(self, message="无权执行此操作 / not permitted"):
        super().__init__(message)
        self.text = message
