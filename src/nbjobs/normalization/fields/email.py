"""``email``: syntax check and canonical form by email-validator, never touching the network.

The normalized value is the library's ``normalized`` address: domain lowercased and, for
internationalized domains, in Unicode ("user@XN--BCHER-KVA.DE" -> "user@bücher.de"); the local
part keeps its case because mailbox names may be case-sensitive.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from . import FieldResult, Option, OptionsMap, invalid, map_values

NAME = "email"
COMPONENTS = ("local", "domain")
REASONS = {"email_invalid": "Not a valid email address."}
OPTIONS: dict[str, Option] = {}


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    try:
        # check_deliverability=False: no DNS lookups, a job must never wait on the network.
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return invalid(COMPONENTS, "email_invalid")
    # ``normalized`` already has the domain lowercased (and IDNA-decoded), the local part as typed.
    local, _, domain = result.normalized.rpartition("@")
    return FieldResult(f"{local}@{domain}", (local, domain), None)


normalize_values = map_values(normalize_value)
