"""Secrets are masked by value and by shape before anything reaches Slack or the logs."""

from __future__ import annotations

import pytest

from bot.redact import MASK, Redactor


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("curl -H 'Authorization: sk-raw-key'", "sk-raw-key"),
        ("token xoxb-123-456-abcdef leaked", "xoxb-123-456-abcdef"),
        ("STRIPE_SECRET_KEY=sk_live_abc123", "sk_live_abc123"),
        ("AWS_SECRET_ACCESS_KEY=abcd1234secret", "abcd1234secret"),
        ('DB_PASSWORD="hunter 2"', "hunter 2"),
        ("github_token: ghp_0123456789", "ghp_0123456789"),
    ],
)
def test_secret_shapes_are_masked(text: str, secret: str) -> None:
    masked = Redactor()(text)
    assert secret not in masked
    assert MASK in masked


def test_configured_secrets_are_masked_anywhere() -> None:
    redact = Redactor(["nm-super-secret"])
    assert redact("the key nm-super-secret was used") == f"the key {MASK} was used"


def test_ordinary_text_is_left_alone() -> None:
    text = "npm ERR! code ELIFECYCLE\nPORT=3000 NODE_ENV=production"
    assert Redactor()(text) == text
