"""``email``: syntax check and canonical form by email-validator; no network unless asked.

The normalized value is the library's ``normalized`` address: domain lowercased and, for
internationalized domains, in Unicode ("user@XN--BCHER-KVA.DE" -> "user@bücher.de"); the local
part keeps its case because mailbox names may be case-sensitive. Components: ``local``,
``domain`` (Unicode) and ``ascii_domain`` (IDNA-encoded, "xn--bcher-kva.de"), the form DNS and
most mail systems use.

Options: ``check_deliverability`` (off) looks the domain's MX records up in DNS, at most a few
seconds per distinct domain, and makes a domain that receives no mail ``email_undeliverable``;
``gmail_canonical`` (off) applies Gmail's own rules, under which "John.Doe+news@GoogleMail.com"
and "johndoe@gmail.com" are one mailbox: dots and "+tag" dropped, lowercased, gmail.com.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from email_validator import (
    EmailNotValidError,
    EmailUndeliverableError,
    caching_resolver,
    validate_email,
)

from . import SHARED_REPAIRS, FieldResult, OptionsMap, invalid, map_values
from ._options import flag

NAME = "email"
COMPONENTS = ("local", "domain", "ascii_domain")
REASONS = {
    "email_invalid": "Not a valid email address.",
    "email_undeliverable": "The domain does not receive email (no MX or A record in DNS).",
}
REPAIRS = {
    "domain_lowercased": "Domain lowercased.",
    "idna_encoded": "Internationalized domain: its IDNA form (xn--...) is in ascii_domain.",
    "idna_decoded": SHARED_REPAIRS["idna_decoded"],
    "gmail_canonicalized": "Gmail address: dots and +tag dropped, lowercased, at gmail.com.",
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


@cache
def _resolver() -> Any:
    """One resolver for the process, so each domain is looked up once, not once per address."""
    return caching_resolver(timeout=_DNS_TIMEOUT)


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    deliverability = bool(options.get("check_deliverability"))
    try:
        result = validate_email(
            value,
            check_deliverability=deliverability,
            dns_resolver=_resolver() if deliverability else None,
        )
    except EmailUndeliverableError:
        return invalid(COMPONENTS, "email_undeliverable")
    except EmailNotValidError:
        return invalid(COMPONENTS, "email_invalid")
    local, domain, ascii_domain = result.local_part, result.domain, result.ascii_domain
    typed_domain = value.rpartition("@")[2]
    notes = []
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
