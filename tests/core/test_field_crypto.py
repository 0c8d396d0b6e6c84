"""Field encryption (core/crypto.py): new values are AES-256-GCM with a random nonce each, values
written before as Fernet tokens still decrypt, a tampered or foreign-key token is refused."""
import base64

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.fernet import InvalidToken
from django.test import override_settings

from yiwang.core import crypto


def test_new_values_are_gcm_and_round_trip():
    for value in ("150627198803140012", "13812345678", "张三的电话"):
        token = crypto.encrypt(value)
        assert token.startswith(crypto.GCM_PREFIX)
        assert value not in token
        assert crypto.decrypt(token) == value


def test_blank_stays_blank():
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_each_value_gets_its_own_nonce():
    tokens = {crypto.encrypt("150627198803140012") for _ in range(50)}
    assert len(tokens) == 50
    nonces = {base64.urlsafe_b64decode(t[len(crypto.GCM_PREFIX):])[:12] for t in tokens}
    assert len(nonces) == 50


def test_fernet_tokens_written_before_still_decrypt():
    from django.conf import settings

    legacy = crypto._fernet(settings.FIELD_ENCRYPTION_KEY).encrypt("150627198803140012".encode()).decode()
    assert legacy.startswith("gAAAA")
    assert crypto.decrypt(legacy) == "150627198803140012"


def test_tampered_token_is_refused():
    token = crypto.encrypt("13812345678")
    raw = bytearray(base64.urlsafe_b64decode(token[len(crypto.GCM_PREFIX):]))
    raw[-1] ^= 1  # one bit of the tag
    with pytest.raises(InvalidTag):
        crypto.decrypt(crypto.GCM_PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode())
    raw = bytearray(base64.urlsafe_b64decode(token[len(crypto.GCM_PREFIX):]))
    raw[13] ^= 1  # one bit of the ciphertext
    with pytest.raises(InvalidTag):
        crypto.decrypt(crypto.GCM_PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode())


def test_another_key_cannot_read_either_kind():
    from django.conf import settings

    token = crypto.encrypt("13812345678")
    legacy = crypto._fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(b"13812345678").decode()
    with override_settings(FIELD_ENCRYPTION_KEY="another-key"):
        with pytest.raises(InvalidTag):
            crypto.decrypt(token)
        with pytest.raises(InvalidToken):
            crypto.decrypt(legacy)
