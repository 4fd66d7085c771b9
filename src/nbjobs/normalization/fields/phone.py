"""``phone``: parsed by phonenumbers; a valid number becomes E.164 ("+14155552671").

Numbers without a country code are read as numbers of the ``default_region`` option (default
"US"). An extension ("ext. 123", "x99") is kept in the ``extension`` component, not in the E.164
value. ``region`` is the ISO code of the number's region, "001" for non-geographic numbers (+800),
"" when unknown.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from . import FieldResult, Option, OptionsMap, invalid, map_values

NAME = "phone"
COMPONENTS = ("country_code", "national_number", "extension", "region")
REASONS = {
    "phone_unparseable": "Not recognisable as a phone number.",
    "phone_invalid": "Not a valid phone number for its country (wrong length or unassigned range).",
}

# Common non-ISO spellings people type; phonenumbers knows only the ISO codes.
_REGION_ALIASES = {"UK": "GB"}


def parse_region(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f'default_region must be a string such as "US", got {raw!r}.')
    region = raw.strip().upper()
    region = _REGION_ALIASES.get(region, region)
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f'Unknown default_region "{raw}": use an ISO 3166 alpha-2 code such as '
            '"US", "GB", "DE" or "IN".'
        )
    return region


OPTIONS = {
    "default_region": Option(
        default="US",
        parse=parse_region,
        help="Region assumed for phone numbers written without a country code (ISO 3166 alpha-2).",
    )
}


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    region = options.get("default_region", OPTIONS["default_region"].default)
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return invalid(COMPONENTS, "phone_unparseable")
    if not phonenumbers.is_valid_number(number):
        return invalid(COMPONENTS, "phone_invalid")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    components = (
        str(number.country_code),
        # E.164 minus the country code keeps the Italian leading zero that national_number drops.
        e164[1 + len(str(number.country_code)) :],
        number.extension or "",
        phonenumbers.region_code_for_number(number) or "",
    )
    return FieldResult(e164, components, None)


normalize_values = map_values(normalize_value)
