"""Field protection for personal data (PIPL): encryption at rest, keyed lookup hash, masking.

ID numbers and phones are stored as ciphertext plus an HMAC-SHA256 keyed hash, so an exact lookup
works without decrypting and the table alone reveals nothing. Keys come from settings
(YIWANG_FIELD_KEY, YIWANG_HASH_KEY); in production both are required.

New values are encrypted with AES-256-GCM (an AEAD: confidentiality and integrity in one primitive),
a fresh random 96-bit nonce per value, stored as ``a1:`` + urlsafe base64 of nonce ‖ ciphertext ‖ tag.
Values written before (Fernet tokens, which start ``gAAAA``) still decrypt: ``decrypt`` reads both.
Why, and the limits of random nonces: docs/decisions/0008-field-encryption-aes-gcm.md.
"""
import base64
import functools
import hashlib
import hmac
import os

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

GCM_PREFIX = "a1:"
_NONCE = 12


@functools.cache
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(key_material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@functools.cache
def _gcm(key_material: str) -> AESGCM:
    # a key of its own for AES-GCM (not the bytes Fernet uses), derived from the same setting
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"yiwang field encryption aes-256-gcm v1").derive(key_material.encode())
    return AESGCM(key)


def encrypt(value: str) -> str:
    if not value:
        return ""
    nonce = os.urandom(_NONCE)
    sealed = _gcm(settings.FIELD_ENCRYPTION_KEY).encrypt(nonce, value.encode(), None)
    return GCM_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    if token.startswith(GCM_PREFIX):
        raw = base64.urlsafe_b64decode(token[len(GCM_PREFIX):])
        return _gcm(settings.FIELD_ENCRYPTION_KEY).decrypt(raw[:_NONCE], raw[_NONCE:], None).decode()
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


@functools.cache
def _sealing(key_material: str) -> AESGCM:
    # its own key (HKDF info), so that a sealed blob and a field value can never be swapped for each other
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"yiwang sealed blobs aes-256-gcm v1").derive(key_material.encode())
    return AESGCM(key)


def seal(data: bytes, context: bytes) -> bytes:
    """Encrypt bytes kept outside the database for a while (an import's plan: ID numbers in clear
    inside) with AES-256-GCM under a key derived from the field key; ``context`` (authenticated, not
    stored) binds the blob to what it belongs to, so a blob of one import cannot pass for another's."""
    nonce = os.urandom(_NONCE)
    return nonce + _sealing(settings.FIELD_ENCRYPTION_KEY).encrypt(nonce, data, context)


def unseal(blob: bytes, context: bytes) -> bytes:
    """The bytes ``seal`` was given; raises ``cryptography.exceptions.InvalidTag`` if the blob was
    altered, sealed for another context or under another key."""
    return _sealing(settings.FIELD_ENCRYPTION_KEY).decrypt(blob[:_NONCE], blob[_NONCE:], context)
