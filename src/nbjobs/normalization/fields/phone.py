"""``phone``: parsed by phonenumbers, every region; a valid number becomes E.164 ("+14155552671").

Numbers without a country code are read as numbers of the ``default_region`` option (default
"US"). An extension ("ext. 123", "x99") is kept in the ``extension`` component, not in the E.164
value. Letters typed for digits ("415-555-O1O1", "4l5 555 2671": O -> 0, l/I -> 1) are repaired,
but only when the repaired number is valid; vanity numbers ("1-800-FLOWERS") keep their meaning.
So is "00" before a country code ("0044 20 7946 0958", as most of the world dials abroad) read as
"+"; a label after the number ("(mobile)", "(work)") is left out.

Components: ``e164``; ``national`` and ``international``, formatted as dialled; ``region``, the
ISO code of the number's region, "001" for non-geographic numbers (+800); ``line_type``, the
phonenumbers number type lowercased (mobile, fixed_line, fixed_line_or_mobile, toll_free, voip,
...); ``extension``.

Invalid: not a phone number (``phone_unparseable``); wrong length or unassigned range
(``phone_invalid``); a placeholder (``phone_fake``): one digit repeated, a run such as
123-456-7890, or the NANP range 555-0100..0199 reserved for fiction; two numbers or more
("415-555-2671 / 650-253-0000": ``phone_multiple``).
"""

from __future__ import annotations

import ipaddress
import re
from types import ModuleType
from typing import Any

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
    re_util,
)
from phonenumbers.phonenumberutil import _number_type_helper

from . import FieldResult, Option, OptionsMap, invalid, map_values

NAME = "phone"
COMPONENTS = ("e164", "national", "international", "region", "line_type", "extension")
REASONS = {
    "phone_unparseable": "Not recognisable as a phone number.",
    "phone_multiple": "More than one phone number in the value (one per cell is normalized).",
    "phone_invalid": "Not a valid phone number for its country (wrong length or unassigned range).",
    "phone_fake": "A placeholder number (one repeated digit, 123-456-7890, or 555-01xx).",
}
REPAIRS = {
    "letter_typo_repaired": "Letters typed for digits (O -> 0, l/I -> 1) repaired.",
    "extension_kept": "An extension split off into the extension component.",
    "label_removed": 'A label after the number, such as "(mobile)", left out.',
    "international_prefix_read": 'The international prefix "00" read as "+" ("00 44 ..." -> +44).',
}

# phonenumbers looks each metadata pattern up again in ``re``'s cache on every use (~17 times a
# number); its own cache is one dict lookup (1,544 patterns for every region, ~2 MB). This
# field ran ~10% faster with it on benchmarks/contacts.py's phones, results identical
# (measured). Versions without it (the dependency allows 8.13 on) go without.
if hasattr(phonenumbers, "enable_pattern_cache"):
    phonenumbers.enable_pattern_cache()
# The walk below compiles patterns as phonenumbers' own does: through that cache from 9.0.43
# on, with re.compile before (the ``fast`` extra pins 9.0.41, the metadata rphonenumbers has).
_compile = getattr(re_util, "re_compile", re.compile)

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

_LINE_TYPES = {value: key.lower() for key, value in vars(PhoneNumberType).items() if key.isupper()}
# An extension at the end, so its letters ("ext", "x") don't count as typos.
_EXTENSION = re.compile(r"(?:e?xt(?:ension)?\.?|x|#|;ext=)\s*\d+\s*$", re.IGNORECASE)
_TYPO_LETTERS = str.maketrans("OoIl", "0011")
_MAX_TYPOS = 3  # more than that is a word, not a slip of the finger
# A label in brackets after the number: "(mobile)", "(Work)", "(h)", "(Büro)".
# Words joined by dots or spaces, each repetition starting with its separator: one way to match.
_LABEL = re.compile(r"\s*\([^\W\d_]+(?:[.\s]+[^\W\d_]+)*\.?\)\s*$")
_LIST = re.compile(r"[/;,|]")  # what separates numbers in a list
_IDD = re.compile(r"\s*00\s*(?=[1-9])")
_RUNS = ("0123456789", "1234567890", "9876543210", "0987654321")


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    region = options.get("default_region", OPTIONS["default_region"].default)
    notes: tuple[str, ...] = ()
    # "(415) 555-2671 (mobile)": the label's letters are no keypad letters.
    if value.endswith(")") and (label := _LABEL.search(value)):
        value, notes = value[: label.start()], ("label_removed",)
    # Repairs are taken only when they give a valid number.
    repaired = _repair_typos(value)
    if repaired is not None:
        found = _read(repaired, region)
        if found is not None:
            return _checked(*found, (*notes, "letter_typo_repaired"))
    number = _parse(value, region)
    if number is not None:
        number_region, line_type = _region_and_line_type(number)
        if line_type is not None:
            return _checked(number, number_region, line_type, notes)
    # "00 44 20 7946 0958": "00" is how most of the world dials abroad (not the US: 011).
    if (idd := _IDD.match(value)) and (found := _read("+" + value[idd.end() :], region)):
        return _checked(*found, (*notes, "international_prefix_read"))
    # "415-555-2671 / 415-555-2672": a list, when two or more of its parts are numbers
    # ("0171/1234567", a German way of writing one number, has no such parts).
    if (
        _LIST.search(value)
        and sum(_read(part, region) is not None for part in _LIST.split(value)) > 1
    ):
        return invalid(COMPONENTS, "phone_multiple")
    if number is None:
        return invalid(COMPONENTS, "phone_unparseable")
    return invalid(COMPONENTS, "phone_fake" if _is_fake(number) else "phone_invalid")


def _read(text: str, region: str) -> tuple[PhoneNumber, str, str] | None:
    """The number ``text`` reads as, with its region and line type, if it is valid."""
    number = _parse(text, region)
    if number is None:
        return None
    number_region, line_type = _region_and_line_type(number)
    return None if line_type is None else (number, number_region, line_type)


def _checked(
    number: PhoneNumber, region: str, line_type: str, notes: tuple[str, ...]
) -> FieldResult:
    """The result of a valid number, unless it is a placeholder."""
    if _is_fake(number):
        return invalid(COMPONENTS, "phone_fake")
    return _result(number, region, line_type, notes)


normalize_values = map_values(normalize_value)


# National numbers run from 6 digits (small countries) to 13; fewer are extensions or codes.
_ANY_REGION_DIGITS = (6, 13)


def looks_like_number(value: str, options: OptionsMap, *, any_region: bool = False) -> bool:
    """Whether ``value`` is written as a phone number, valid or not: phonenumbers reads it and
    its length is possible for its region (``is_possible_number``). For column detection: a
    column of phones is one even where many of its numbers are invalid (unassigned ranges,
    another country's numbers without their code), while a social security number (9 digits)
    or a card number is not. An IP address has a possible length but is not one.

    ``any_region`` (a header says the column holds phones): any number phonenumbers reads
    with a national number of ``_ANY_REGION_DIGITS`` is one, whatever the default region
    allows: the 9 digits of "237 805 856" are a Portuguese number, not a US one."""
    region = options.get("default_region", OPTIONS["default_region"].default)
    number = _parse(value, region)
    if number is None:
        return False
    if any_region:
        shortest, longest = _ANY_REGION_DIGITS
        possible = shortest <= len(str(number.national_number)) <= longest
    else:
        possible = _library.is_possible_number(number)
    if not possible:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return True
    return False


# The library that parses, validates and formats: phonenumbers itself, or a compiled port with
# the same API and answers (``use_library``; ``normalization.backends`` decides which). Numbers
# are its own objects: only its functions are called on them.
_library: ModuleType = phonenumbers


def use_library(module: ModuleType | None) -> None:
    """Parse with ``module`` (phonenumbers' API, proven equal by the parity gate) from now on;
    None: phonenumbers itself."""
    global _library
    _library = phonenumbers if module is None else module


def _parse(text: str, region: str) -> Any:
    library = _library
    try:
        return library.parse(text, region)
    except library.NumberParseException:
        return None


def _repair_typos(value: str) -> str | None:
    """The value with O/o -> 0 and I/l -> 1, when those are its only letters (outside an
    extension) and there are few of them; None when there is nothing to repair."""
    main = _EXTENSION.sub("", value)
    letters = [char for char in main if char.isalpha()]
    if not letters or len(letters) > _MAX_TYPOS or not set(letters) <= set("OoIl"):
        return None
    return main.translate(_TYPO_LETTERS) + value[len(main) :]


def _is_fake(number: PhoneNumber) -> bool:
    digits = _library.national_significant_number(number)
    if len(digits) >= 6 and len(set(digits)) == 1:
        return True
    if any(digits in run or run in digits for run in _RUNS if len(digits) >= 7):
        return True
    # NANP 555-0100..555-0199: reserved for films and examples, never assigned.
    return number.country_code == 1 and len(digits) == 10 and digits[3:8] == "55501"


def _region_and_line_type(number: PhoneNumber) -> tuple[str, str | None]:
    """``region_code_for_number`` and the number type's name (None when the number is not
    valid, as ``is_valid_number`` would say), found in one pass.

    For a calling code shared by several regions (+1, +7, +44), phonenumbers finds the region
    by typing the number against each region in turn, then ``number_type`` and
    ``region_code_for_number`` would each do all of that again: the costliest steps of a phone
    number. This is the same walk, as phonenumbers writes it, done once and keeping the type
    it found on the way. Tests hold it equal to the two public functions.

    A compiled library does each of those steps natively: its public functions are used.
    """
    if _library is not phonenumbers:
        return _region_and_line_type_of(_library, number)
    nsn = phonenumbers.national_significant_number(number)
    code = number.country_code
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code) if code is not None else None
    if code is None or regions is None:
        return "", None
    region, kind = (regions[0], None) if len(regions) == 1 else _walk_regions(nsn, regions)
    if region is None:
        return "", None
    if kind is None:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        if metadata is None:
            return region, None
        kind = _number_type_helper(nsn, metadata)
    return region, None if kind == PhoneNumberType.UNKNOWN else _LINE_TYPES[kind]


def _region_and_line_type_of(library: ModuleType, number: Any) -> tuple[str, str | None]:
    """``_region_and_line_type`` from ``library``'s public functions."""
    if not library.is_valid_number(number):
        return "", None
    region = library.region_code_for_number(number) or ""
    kind = library.number_type(number)
    return region, None if kind == PhoneNumberType.UNKNOWN else _LINE_TYPES[kind]


def _walk_regions(nsn: str, regions: tuple[str, ...]) -> tuple[str | None, int | None]:
    """phonenumbers' ``_region_code_for_number_from_list``: the first region whose leading
    digits match, or for which the number has a type; with that type when it was computed."""
    for code in regions:
        metadata = PhoneMetadata.metadata_for_region(code.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if _compile(metadata.leading_digits).match(nsn):
                return code, None
        else:
            kind = _number_type_helper(nsn, metadata)
            if kind != PhoneNumberType.UNKNOWN:
                return code, kind
    return None, None


def _result(
    number: PhoneNumber, region: str, line_type: str, notes: tuple[str, ...]
) -> FieldResult:
    extension = number.extension or ""
    number.extension = None  # formats below without " ext. 123": that has its own component
    library = _library
    e164 = library.format_number(number, PhoneNumberFormat.E164)
    components = (
        e164,
        library.format_number(number, PhoneNumberFormat.NATIONAL),
        library.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        region,
        line_type,
        extension,
    )
    notes += ("extension_kept",) * bool(extension)
    return FieldResult(e164, components, None, notes)
