"""``email``: syntax check and canonical form by email-validator; no network unless asked.

The normalized value is the library's ``normalized`` address: domain lowercased and, for
internationalized domains, in Unicode ("user@XN--BCHER-KVA.DE" -> "user@bücher.de"); the local
part keeps its case because mailbox names may be case-sensitive. Components: ``local``,
``domain`` (Unicode) and ``ascii_domain`` (IDNA-encoded, "xn--bcher-kva.de"), the form DNS and
most mail systems use. A link's "mailto:", a display name ("Ann Lee <ann@x.org>", as mail
clients and CRMs export addresses) and punctuation after the address ("ann@x.org;") are left
out, each with its repair note; a list of addresses is ``email_multiple``.

Options: ``check_deliverability`` (off) looks the domain's MX records up in DNS, at most a few
seconds per distinct domain, and makes a domain that receives no mail ``email_undeliverable``;
``gmail_canonical`` (off) applies Gmail's own rules, under which "John.Doe+news@GoogleMail.com"
and "johndoe@gmail.com" are one mailbox: dots and "+tag" dropped, lowercased, gmail.com.
"""

from __future__ import annotations

import re
import string
from functools import cache, lru_cache
from typing import Any

import email_validator
from email_validator import (
    EmailNotValidError,
    EmailUndeliverableError,
    caching_resolver,
    validate_email,
)
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    DOT_ATOM_TEXT,
    EMAIL_MAX_LENGTH,
)
from email_validator.syntax import validate_email_domain_name

from . import SHARED_REPAIRS, FieldResult, OptionsMap, invalid, map_values
from ._options import flag

_LIST = re.compile(r"[;,\s]+")  # what separates addresses in a list
_TRAILING = ".,;:"

NAME = "email"
COMPONENTS = ("local", "domain", "ascii_domain")
REASONS = {
    "email_invalid": "Not a valid email address.",
    "email_multiple": "More than one email address in the value (one per cell is normalized).",
    "email_undeliverable": "The domain does not receive email (no MX or A record in DNS).",
}
REPAIRS = {
    "domain_lowercased": "Domain lowercased.",
    "idna_encoded": "Internationalized domain: its IDNA form (xn--...) is in ascii_domain.",
    "idna_decoded": SHARED_REPAIRS["idna_decoded"],
    "gmail_canonicalized": "Gmail address: dots and +tag dropped, lowercased, at gmail.com.",
    "mailto_removed": 'A "mailto:" link prefix removed.',
    "punctuation_removed": 'Punctuation after the address removed ("ann@x.org;").',
    "display_name_removed": 'A display name around the address removed ("Ann <ann@x.org>").',
}
OPTIONS = {
    "check_deliverability": flag(
        "check_deliverability",
        "Look email domains up in DNS (network access, slower); off: syntax only.",
    ),
    "gmail_canonical": flag(
        "gmail_canonical",
        "Gmail addresses without dots and +tags, lowercased, at gmail.com.",
    ),
}

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})  # one mailbox system, two names
_DNS_TIMEOUT = 5  # seconds per lookup: a dead resolver must not stall a job for long
# The characters of a plain ASCII host name: the fast path takes domains that start with one.
_HOSTNAME_CHARS = frozenset(string.ascii_letters + string.digits + ".-")
_CASE_INSENSITIVE = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


@cache
def _resolver() -> Any:
    """One resolver for the process, so each domain is looked up once, not once per address."""
    return caching_resolver(timeout=_DNS_TIMEOUT)


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    deliverability = bool(options.get("check_deliverability"))
    notes = []
    if value[:7].lower() == "mailto:":  # copied from a link
        value = value[7:].strip()
        notes.append("mailto_removed")
    if value[-1:] in _TRAILING and "@" in value:  # "ann@x.org;" copied out of a list
        value = value.rstrip(_TRAILING)
        notes.append("punctuation_removed")
    try:
        parts = None if deliverability else _validate_simple(value)
        if parts is None:
            # A display name ("Ann Lee <ann@x.org>", as mail clients and CRMs export) is
            # parsed by the library and left out.
            result = validate_email(
                value,
                check_deliverability=deliverability,
                dns_resolver=_resolver() if deliverability else None,
                allow_display_name=True,
            )
            parts = result.local_part, result.domain, result.ascii_domain
            if value.endswith(">"):
                notes.append("display_name_removed")
    except EmailUndeliverableError:
        return invalid(COMPONENTS, "email_undeliverable")
    except EmailNotValidError:
        # "ann@x.org; bob@y.org": a list, not one malformed address.
        several = value.count("@") > 1 and len(_LIST.split(value.strip(_TRAILING))) > 1
        return invalid(COMPONENTS, "email_multiple" if several else "email_invalid")
    local, domain, ascii_domain = parts
    typed_domain = value.rpartition("@")[2].rstrip(">")
    if typed_domain != typed_domain.lower():
        notes.append("domain_lowercased")
    if ascii_domain != domain:
        notes.append("idna_decoded" if "xn--" in typed_domain.lower() else "idna_encoded")
    if options.get("gmail_canonical") and domain in _GMAIL_DOMAINS:
        # Gmail ignores dots and everything from "+" on, and matches case-insensitively.
        typed = f"{local}@{domain}"
        local = local.split("+", 1)[0].replace(".", "").lower()
        domain = ascii_domain = "gmail.com"
        if not local:
            return invalid(COMPONENTS, "email_invalid")
        if f"{local}@{domain}" != typed:
            notes.append("gmail_canonicalized")
    return FieldResult(f"{local}@{domain}", (local, domain, ascii_domain), None, tuple(notes))


normalize_values = map_values(normalize_value)


def _validate_simple(value: str) -> tuple[str, str, str] | None:
    """``validate_email``'s (local part, domain, ASCII domain) for the shape most addresses
    have, a plain ASCII dot-atom local part, from the library's own checks, with the domain's
    (most of the cost, and shared by many addresses) checked once per distinct domain; raises
    ``EmailNotValidError`` where it would. None for any other shape (quoted or
    internationalized local parts, display names, domain literals), which goes to
    ``validate_email`` itself. A property test holds the two equal."""
    local, at, domain_part = value.partition("@")
    # Such a local part has no quote, "<" or "@", so email-validator splits at this "@" too
    # (a combining mark after it could change that: the domain must start plain).
    if not (at and domain_part[:1] in _HOSTNAME_CHARS and DOT_ATOM_TEXT.match(local)):
        return None
    checked = _domain(
        domain_part, email_validator.TEST_ENVIRONMENT, email_validator.GLOBALLY_DELIVERABLE
    )
    if checked is None:
        raise EmailNotValidError(f"The part after the @-sign is not valid: {domain_part}")
    domain, ascii_domain = checked
    if local.lower() in _CASE_INSENSITIVE:  # RFC 2142 mailbox names ("Postmaster")
        local = local.lower()
    # validate_email_length: the address as typed, normalized, and with the IDNA domain.
    for address in (value, f"{local}@{domain}", f"{local}@{ascii_domain}"):
        if len(address.encode()) > EMAIL_MAX_LENGTH:
            raise EmailNotValidError("The email address is too long.")
    return local, domain, ascii_domain


@lru_cache(maxsize=4096)
def _domain(
    domain_part: str, test_environment: bool, globally_deliverable: bool
) -> tuple[str, str] | None:
    """email-validator's (domain, ASCII domain) for the part after the @-sign, None if invalid."""
    try:
        info = validate_email_domain_name(
            domain_part,
            test_environment=test_environment,
            globally_deliverable=globally_deliverable,
        )
    except EmailNotValidError:
        return None
    return info["domain"], info["ascii_domain"]
