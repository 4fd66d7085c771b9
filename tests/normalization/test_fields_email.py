"""``email``: syntax by email-validator, IDNA domains, the opt-in Gmail rules, no network."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import email

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from contacts import messy_email

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
    # A link's "mailto:" and a display name (mail clients' and CRMs' exports) are left out.
    ("mailto:Ann@Example.org", "Ann@example.org", ("Ann", "example.org", "example.org")),
    ('"Lee, Ann" <ann@example.org>', "ann@example.org", ("ann", "example.org", "example.org")),
    ("<ann@example.org>", "ann@example.org", ("ann", "example.org", "example.org")),
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
    "ann@example.org>",  # half a display name
    "Ann Lee ann@example.org",  # a name without the brackets
    "mailto:",
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


@pytest.mark.parametrize(
    "raw",
    [
        "ann@example.com; bob@example.org",
        "ann@example.com, bob@example.org",
        "ann@example.com bob@example.org",
        "Ann Lee <ann@example.com>, Bob <bob@example.org>",
    ],
)
def test_a_list_of_addresses_says_so(raw):
    assert normalize(email, raw.replace(", ", "; ") + ";").reason == "email_multiple"
    assert normalize(email, raw) == invalid(email, "email_multiple")
    assert normalize(email, "ann@@example.com").reason == "email_invalid"  # one, malformed


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


def _library(value: str) -> tuple[str, str, str] | None:
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.local_part, result.domain, result.ascii_domain


def _fast(value: str) -> tuple[str, str, str] | str | None:
    """``_validate_simple``'s answer: parts, None (invalid) or "slow" (not its shape)."""
    try:
        parts = email._validate_simple(value)
    except EmailNotValidError:
        return None
    return "slow" if parts is None else parts


@settings(max_examples=2000, deadline=None)
@given(texts("abcXYZ019.+@-_!#'~ü例ß.comxn--\"<>[]() \u0338\u3002\uff0e", max_size=70))
@example("Postmaster@Example.COM")
@example("a@b.c" + "d" * 250)
@example("a" * 64 + "@" + "b" * 63 + ".com")
@example("user@XN--BCHER-KVA.DE")
@example("user@bücher.de")
@example("user@-bad.com")
@example("user@a..com")
@example("user@[127.0.0.1]")
@example("user@a.com>")
@example("user@example.invalid")
@example("ab@\u0338x.com")
def test_fast_path_equals_email_validator(value):
    fast = _fast(value)
    if fast != "slow":
        assert fast == _library(value)


def test_fast_path_equals_email_validator_on_the_benchmark_addresses():
    rng = random.Random(7)
    values = list(dict.fromkeys(messy_email(rng).strip() for _ in range(3000)))
    fast = [_fast(value) for value in values]
    assert sum(f != "slow" for f in fast) > len(values) * 0.8  # the fast path does fire
    assert [f for f in fast if f != "slow"] == [
        _library(v) for v, f in zip(values, fast, strict=True) if f != "slow"
    ]
