"""Field protection for personal data (PIPL): encryption at rest, keyed lookup hash, masking.

ID numbers and phones are stored as Fernet ciphertext plus an HMAC-SHA256 keyed hash, so an exact
lookup works without decrypting and the table alone reveals nothing. Keys come from settings
(YIWANG_FIELD_KEY, YIWANG_HASH_KEY); in production both are required.
"""
import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet
from django.conf import settings


@functools.cache
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(key_material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """Keyed hash for exact lookup; empty input hashes to empty (no lookup for blanks)."""
    if not value:
        return ""
    return hmac.new(settings.LOOKUP_HASH_KEY.encode(), value.upper().encode(), hashlib.sha256).hexdigest()


def mask_id_number(number: str) -> str:
    """150627********123X: area code and last four shown, birth date hidden."""
    if not number:
        return ""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    """138****5678."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
