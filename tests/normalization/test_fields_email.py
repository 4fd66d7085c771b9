"""``email``: syntax by email-validator, IDNA domains, the opt-in Gmail rules, no network."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import email

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

# (input, normalized, (local, domain, ascii_domain))
VALID = [
    ("John.Doe@EXAMPLE.COM", "John.Doe@example.com", ("John.Doe", "example.com", "example.com")),
    ("user@bücher.de", "user@bücher.de", ("user", "bücher.de", "xn--bcher-kva.de")),
    ("user@XN--BCHER-KVA.DE", "user@bücher.de", ("user", "bücher.de", "xn--bcher-kva.de")),
    ("user@MÜNCHEN.de", "user@münchen.de", ("user", "münchen.de", "xn--mnchen-3ya.de")),
    ("ÜSER@Example.COM", "ÜSER@example.com", ("ÜSER", "example.com", "example.com")),
    (
        "user+tag@sub.example.co.uk",
        "user+tag@sub.example.co.uk",
        ("user+tag", "sub.example.co.uk", "sub.example.co.uk"),
    ),
    ("o'brien@example.ie", "o'brien@example.ie", ("o'brien", "example.ie", "example.ie")),
    ("a_b-c@example.travel", "a_b-c@example.travel", ("a_b-c", "example.travel", "example.travel")),
    # Gmail rules are off by default: dots and tags stay.
    ("J.Doe+News@Gmail.com", "J.Doe+News@gmail.com", ("J.Doe+News", "gmail.com", "gmail.com")),
    ("用户@例子.广告", "用户@例子.广告", ("用户", "例子.广告", "xn--fsqu00a.xn--4rr70v")),
]
INVALID = [
    "bad@",
    "noat",
    "a@b",
    "x@localhost",
    "a..b@example.com",
    ".ab@example.com",
    "user@exa mple.com",
    "a@-example.com",
    '"quoted"@example.com',
    "@example.com",
    "a@example..com",
    "a@[127.0.0.1]",
    "two@@example.com",
    "user@example.invalid",  # special-use domain
]
# (input, normalized, components) with gmail_canonical
GMAIL = [
    ("J.Doe+News@Gmail.com", "jdoe@gmail.com", ("jdoe", "gmail.com", "gmail.com")),
    ("john.doe@googlemail.com", "johndoe@gmail.com", ("johndoe", "gmail.com", "gmail.com")),
    ("JohnDoe@gmail.com", "johndoe@gmail.com", ("johndoe", "gmail.com", "gmail.com")),
    # Other providers keep their own rules.
    (
        "J.Doe+News@example.com",
        "J.Doe+News@example.com",
        ("J.Doe+News", "example.com", "example.com"),
    ),
]


@pytest.mark.parametrize(("raw", "value", "components"), VALID)
def test_valid(raw, value, components):
    assert normalize(email, raw) == FieldResult(value, components, None)


@pytest.mark.parametrize("raw", INVALID)
def test_invalid(raw):
    assert normalize(email, raw) == invalid(email, "email_invalid")


@pytest.mark.parametrize(("raw", "value", "components"), GMAIL)
def test_gmail_canonical(raw, value, components):
    assert normalize(email, raw, gmail_canonical=True) == FieldResult(value, components, None)


def test_gmail_address_of_only_a_tag_is_invalid():
    assert normalize(email, "+news@gmail.com", gmail_canonical=True) == invalid(
        email, "email_invalid"
    )


def test_deliverability_is_off_by_default():
    # A domain that cannot exist in DNS passes: no lookup was made.
    assert normalize(email, "a@no-such-domain-nbjobs-test.com").reason is None


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID + GMAIL])
def test_idempotent(raw):
    assert_idempotent(email, raw)
    assert_idempotent(email, raw, gmail_canonical=True)


@settings(max_examples=300, deadline=None)
@given(texts("abcXYZ.+@-_ü例.com\"'"))
def test_never_raises_and_is_idempotent(value):
    direct(email, value)
    assert_idempotent(email, value)
    assert_idempotent(email, value, gmail_canonical=True)
