"""Password policy: at least three of four character classes (upper, lower, digit, symbol)."""
import re

from django.core.exceptions import ValidationError


class CharacterClassValidator:
    def __init__(self, min_classes=3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        classes = sum(bool(re.search(p, password)) for p in (r"[A-Z]", r"[a-z]", r"\d", r"[^A-Za-z0-9]"))
        if classes < self.min_classes:
            raise ValidationError(
                f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类",
                code="password_too_simple",
            )

    def get_help_text(self):
        return f"密码至少 8 位，并包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。"
