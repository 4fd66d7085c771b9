"""``address``: a US street address, parsed by usaddress and written the USPS way, in Title Case.

"123 north main street apt 4b, springfield il 62704" -> "123 N Main St Apt 4B, Springfield, IL
62704". Street suffixes, directions and unit types take their USPS Publication 28 abbreviations
(``data/usps_abbreviations.json``); the state its USPS code and the ZIP its five or nine digits
(as the ``state`` and ``zip`` types do); the city is cased as the ``city`` type does. Labels
outside the address proper (a recipient such as "Attn John Smith", a building or landmark name)
are left out.

Components: ``house_number``, ``street`` ("N Main St"), ``unit`` ("Apt 4B"), ``city``,
``state``, ``zip``. A PO box ("P.O. BOX 55" -> "PO Box 55") is a mail address USPS delivers to,
so it is valid with the box in ``street`` and no house number; so is a military one (APO, FPO
or DPO as the city, AA/AE/AP as the state): "UNIT 2050 BOX 4190, APO AP 96278" -> "Unit 2050
Box 4190, APO, AP 96278", "PSC 802 Box 74", "USS Springfield SSN 761" in ``street``. A line
break ends a part of the address, as a comma does ("street\ncity, ST zip", as exported).

Invalid: no house number (``address_no_number``: also intersections and free text), no street
name (``address_no_street``), or an address usaddress cannot label, such as one with two unit
numbers (``address_unparseable``; usaddress raises RepeatedLabelError on many real ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from types import ModuleType
from typing import NamedTuple

import usaddress

from . import FieldResult, Option, OptionsMap, invalid, map_values
from ._tables import load_json
from .city import normalize_value as normalize_city
from .city import title_case
from .state import state_code
from .zipcode import split_zip

NAME = "address"
COMPONENTS = ("house_number", "street", "unit", "city", "state", "zip")
REASONS = {
    "address_unparseable": "Not readable as a US address (conflicting or repeated parts).",
    "address_no_number": "No house number: an intersection, a place or free text, not an address.",
    "address_no_street": "No street name.",
}
REPAIRS = {
    "usps_abbreviated": 'Street suffix, direction or unit type abbreviated ("Street" -> "St").',
    "extra_parts_dropped": "Text outside the address proper (recipient, building name) dropped.",
}
OPTIONS: dict[str, Option] = {}


def _table(spellings: dict[str, list[str]]) -> dict[str, str]:
    table = {
        _key(typed): standard for standard, all_typed in spellings.items() for typed in all_typed
    }
    # A standard abbreviation stays itself, also where Publication 28 lists it as a spelling
    # of another suffix too (MDW under MEADOWS as well as MEADOW): otherwise "Mdw" -> "Mdws".
    return table | {_key(standard): standard for standard in spellings}


# Streets, cities, states and ZIP codes repeat across addresses: their pure per-string
# helpers are cached, each entry a few short strings (~0.3 kB), so ~5 MB a cache when full.
_TEXT_CACHE_SIZE = 1 << 14


@lru_cache(maxsize=_TEXT_CACHE_SIZE)
def _key(text: str) -> str:
    return " ".join(text.casefold().replace(".", " ").replace("-", " ").split())


_USPS = load_json("usps_abbreviations.json")
_SUFFIXES = _table(_USPS["suffixes"])
_DIRECTIONS = _table(_USPS["directions"])
_UNITS = _table(_USPS["units"])
_UPPERCASE = frozenset(_USPS["uppercase"])
_MILITARY_POST = frozenset(_USPS["military"]["post_offices"])
_MILITARY_GROUPS = frozenset(_USPS["military"]["groups"])
_SHIPS = frozenset(_USPS["military"]["ship_prefixes"])
_WORD = re.compile(r"[^\W_]+")
_PO_BOX = re.compile(r"p ?o box|post office box|pob")  # matched against _key(): no dots
# The labels whose words take a USPS spelling, and the labels the output is built from.
_ABBREVIATED = {
    "StreetNamePreDirectional": _DIRECTIONS,
    "StreetNamePostDirectional": _DIRECTIONS,
    "StreetNamePreType": _SUFFIXES,
    "StreetNamePostType": _SUFFIXES,
    "SubaddressType": _UNITS,
    "OccupancyType": _UNITS,
}
_USED_PREFIXES = ("AddressNumber", "StreetName", "USPSBox", "Subaddress", "Occupancy")
_USED = {"PlaceName", "StateName", "ZipCode"}


@lru_cache(maxsize=_TEXT_CACHE_SIZE)
def _title(text: str) -> str:
    titled = title_case(" ".join(text.split()))
    return _WORD.sub(lambda m: m[0].upper() if m[0].casefold() in _UPPERCASE else m[0], titled)


def _standard(text: str, table: dict[str, str]) -> str:
    """The USPS spelling of a suffix, direction or unit type; unknown words Title Cased."""
    return table.get(_key(text)) or _title(text)


def _identifier(text: str) -> str:
    # "# 4" and "#4" are the same unit; identifiers are codes, so upper case ("4B", "PH2"),
    # except words spelled out: "One Infinite Loop", "Apt Rear".
    return " ".join(
        word.capitalize() if len(word) > 2 and word.isalpha() else word.upper()
        for word in text.replace("#", "").split()
    )


def _street(parts: dict[str, str]) -> str:
    if "USPSBoxID" in parts:
        box_type = parts.get("USPSBoxType", "")
        box_type = "PO Box" if _PO_BOX.fullmatch(_key(box_type)) else _title(box_type)
        group = [parts.get("USPSBoxGroupType", ""), parts.get("USPSBoxGroupID", "")]
        box = _identifier(parts["USPSBoxID"])
        return " ".join(filter(None, [*(_title(g) for g in group), box_type, box]))
    pieces = [
        parts.get("StreetNamePreModifier", ""),
        _standard(parts.get("StreetNamePreDirectional", ""), _DIRECTIONS),
        _standard(parts.get("StreetNamePreType", ""), _SUFFIXES),
        parts.get("StreetName", ""),
        _standard(parts.get("StreetNamePostType", ""), _SUFFIXES),
        _standard(parts.get("StreetNamePostDirectional", ""), _DIRECTIONS),
    ]
    # Cased as one phrase, so "of" stays small in "Ave of the Americas".
    return _title(" ".join(filter(None, pieces)))


def _unit(parts: dict[str, str]) -> str:
    pieces = []
    for kind, ident in (
        ("SubaddressType", "SubaddressIdentifier"),
        ("OccupancyType", "OccupancyIdentifier"),
    ):
        unit_type = parts.get(kind, "")
        number = _identifier(parts.get(ident, ""))
        if number and not unit_type:
            unit_type = "#"  # "123 Main St #4": a number with no designator
        pieces += [_standard(unit_type, _UNITS) if unit_type else "", number]
    return " ".join(filter(None, pieces))


@lru_cache(maxsize=_TEXT_CACHE_SIZE)
def _city(text: str) -> str:
    if not text:
        return ""
    result = normalize_city(text, {})
    return result.value if result.value is not None else _title(text)


@lru_cache(maxsize=_TEXT_CACHE_SIZE)
def _state(text: str) -> str:
    return state_code(text) or text.upper()


@lru_cache(maxsize=_TEXT_CACHE_SIZE)
def _zip(text: str) -> str:
    zip_parts = split_zip(text)
    return "-".join(filter(None, zip_parts)) if zip_parts else text


def _reason(parts: dict[str, str], kind: str, street: str) -> str | None:
    """Why this parse is not a deliverable address, or None."""
    is_box = "USPSBoxID" in parts
    # An intersection ("Broadway & 5th Ave") has no house number, whatever the tags say.
    has_number = any(c.isalnum() for c in parts.get("AddressNumber", ""))
    if kind == "Intersection" or not (is_box or has_number):
        return "address_no_number"
    # A street has a letter somewhere ("5th Ave", "US Highway 1"); "00 1" is not an address.
    if not (is_box or parts.get("StreetName")) or not any(c.isalpha() for c in street):
        return "address_no_street"
    if kind == "Ambiguous":  # usaddress's own doubt: its labels flip on the slightest change
        return "address_unparseable"
    return None


# usaddress.tag, taken apart to skip its per-address overhead (see ``_tag``). Tokens repeat
# across addresses (words always, numbers often), so their CRF attributes are cached:
# ~1.3 kB an entry, ~21 MB when full.
_TOKEN_CACHE_SIZE = 1 << 14
_Tagged = tuple[dict[str, str], str]


class _Attributes(NamedTuple):
    """A token's CRF attributes, as itself and as the neighbour of another token."""

    own: tuple[str, ...]
    previous: tuple[str, ...]  # to the token after it
    previous_first: tuple[str, ...]  # ... when it is the address's first token
    next: tuple[str, ...]  # to the token before it
    next_last: tuple[str, ...]  # ... when it is the address's last token


@lru_cache(maxsize=_TOKEN_CACHE_SIZE)
def _token_attributes(token: str) -> _Attributes:
    """``usaddress.tokenFeatures`` as pycrfsuite names them ({"word": "main"} -> "word:main").

    A False feature is left out: pycrfsuite gives it weight 0.0, and crfsuite adds weight * 0.0
    to a label score that starts at +0.0, which changes no bit of it (the model's weights are
    all finite), so the tags are exactly the same. Every attribute left has weight 1.0.
    """
    features = usaddress.tokenFeatures(token).items()  # values are str or bool
    own = tuple(
        f"{key}:{value}" if isinstance(value, str) else key
        for key, value in features
        if value is not False
    )
    previous = tuple(f"previous:{name}" for name in own)
    after = tuple(f"next:{name}" for name in own)
    return _Attributes(
        own, previous, (*previous, "previous:address.start"), after, (*after, "next:address.end")
    )


def _crf_items(tokens: list[str]) -> list[tuple[str, ...]]:
    """``usaddress.tokens2features(tokens)`` as pycrfsuite flattens it for the tagger, attribute
    for attribute in the same order (so the same sums), less the False ones."""
    attributes = [_token_attributes(token) for token in tokens]
    last = len(attributes) - 1
    if last == 0:
        return [(*attributes[0].own, "address.start", "address.end")]
    after_first = attributes[1].next_last if last == 1 else attributes[1].next
    items = [(*attributes[0].own, *after_first, "address.start")]
    for i in range(1, last):
        before = attributes[i - 1].previous_first if i == 1 else attributes[i - 1].previous
        after = attributes[i + 1].next_last if i == last - 1 else attributes[i + 1].next
        items.append(attributes[i].own + before + after)
    before_last = attributes[-2].previous_first if last == 1 else attributes[-2].previous
    items.append((*attributes[-1].own, *before_last, "address.end"))
    return items


def _tag(value: str) -> _Tagged | None:
    """``usaddress.tag(value)``, or None where it raises RepeatedLabelError (which parses the
    address a second time just for its message). Other parser errors propagate as from it."""
    return _group(*_labels(value))


# A compiled parser with usaddress.parse's API and answers (``use_parser``; the choice is
# ``normalization.backends``'), or None: usaddress's own tokenizer and tagger, fed as above.
_parse: Callable[[str], list[tuple[str, str]]] | None = None


def use_parser(module: ModuleType | None) -> None:
    """Tag with ``module.parse`` (usaddress.parse's API, proven equal by the parity gate) from
    now on; None: usaddress itself."""
    global _parse
    _parse = None if module is None else module.parse


def _labels(value: str) -> tuple[list[str], list[str]]:
    """``usaddress.parse(value)``: its tokens and their labels."""
    if _parse is not None:
        pairs = _parse(value)
        return [token for token, _ in pairs], [label for _, label in pairs]
    tokens = usaddress.tokenize(value)
    return tokens, usaddress.TAGGER.tag(_crf_items(tokens)) if tokens else []


def _military_groups(tokens: list[str], labels: list[str]) -> list[str] | None:
    """The labels with a first box made the PSC or CMR group, or None: in "PSC 802 Box 74 APO
    AE 09499" usaddress often reads two boxes, and so a repeated label."""
    if labels.count("USPSBoxType") < 2 or tokens[0].upper().strip(",") not in _MILITARY_GROUPS:
        return None
    relabelled = list(labels)
    group = {"USPSBoxType": "USPSBoxGroupType", "USPSBoxID": "USPSBoxGroupID"}
    for i, label in enumerate(labels):
        if i and label == "USPSBoxType":  # the box itself
            return relabelled
        if label not in group:
            return None
        relabelled[i] = group[label]
    return None


def _group(tokens: list[str], labels: list[str]) -> _Tagged | None:
    """``usaddress.tag``'s grouping of labelled tokens, None for a repeated label."""
    grouped: dict[str, list[str]] = {}
    last_label = None
    is_intersection = False
    for token, label in zip(tokens, labels, strict=True):
        if label == "IntersectionSeparator":
            is_intersection = True
        if is_intersection and "StreetName" in label:
            label = "Second" + label
        if label == last_label:
            grouped[label].append(token)
        elif label in grouped:
            return None
        else:
            grouped[label] = [token]
        last_label = label
    tagged = {label: " ".join(words).strip(" ,;") for label, words in grouped.items()}
    if "AddressNumber" in grouped and not is_intersection:
        return tagged, "Street Address"
    if is_intersection and "AddressNumber" not in grouped:
        return tagged, "Intersection"
    return tagged, "PO Box" if "USPSBoxID" in grouped else "Ambiguous"


def _one_line(value: str) -> str:
    """A line break ends a part of the address ("street\ncity, ST zip"), as a comma does; the
    tokenizer would keep it inside a word, and the model knows commas."""
    if "\n" not in value and "\r" not in value:
        return value
    return ", ".join(filter(None, (line.strip(" ,") for line in value.splitlines())))


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    value = _one_line(value)
    try:
        tokens, labels = _labels(value)
        tagged = _group(tokens, labels)
        if tagged is None and (military := _military_groups(tokens, labels)):
            tagged = _group(tokens, military)
    except Exception:  # whatever the parser raises is a reason
        tagged = None
    if tagged is None:  # RepeatedLabelError above all
        return invalid(COMPONENTS, "address_unparseable")
    return _from_tags(*tagged)


def _normalize_reference(value: str) -> FieldResult:
    """``normalize_value`` on ``usaddress.tag`` itself, which ``_tag`` must match (tests, bench)."""
    value = _one_line(value)
    try:
        tagged = usaddress.tag(value)
    except usaddress.RepeatedLabelError:
        tokens, labels = (list(part) for part in zip(*usaddress.parse(value), strict=True))
        military = _military_groups(tokens, labels)
        tagged = _group(tokens, military) if military else None
    except Exception:
        tagged = None
    if tagged is None:
        return invalid(COMPONENTS, "address_unparseable")
    return _from_tags(*tagged)


def _from_tags(parts: dict[str, str], kind: str) -> FieldResult:
    """The result for usaddress's labelled parts (stripped of " ,;", as it does) and type."""
    if parts.get("PlaceName", "").upper() in _MILITARY_POST and not (
        parts.get("AddressNumber") or parts.get("StreetName")
    ):
        return _military(parts)
    if "AddressNumber" not in parts and "StreetName" not in parts:
        parts, kind = _building_as_street(parts, kind)
    street = _street(parts)
    reason = _reason(parts, kind, street)
    if reason:
        return invalid(COMPONENTS, reason)
    labels = ("AddressNumberPrefix", "AddressNumber", "AddressNumberSuffix")
    number = " ".join(filter(None, (_identifier(parts.get(label, "")) for label in labels)))
    components = (
        number,
        street,
        _unit(parts),
        _city(parts.get("PlaceName", "")),
        _state(parts.get("StateName", "")),
        _zip(parts.get("ZipCode", "")),
    )
    line = " ".join(filter(None, components[:3]))
    last_line = " ".join(filter(None, components[4:]))
    normalized = ", ".join(filter(None, [line, components[3], last_line]))
    return FieldResult(normalized, components, None, _notes(parts))


def _building_as_street(parts: dict[str, str], kind: str) -> tuple[dict[str, str], str]:
    """usaddress now and then takes a whole street line for a building's name ("5920 Allen
    Plaza Apt. 130": Plaza is also a building word); a name that is a number, words and a
    street suffix is that street line."""
    words = parts.get("BuildingName", "").split()
    if len(words) < 3 or not words[0][0].isdigit() or _key(words[-1]) not in _SUFFIXES:
        return parts, kind
    street = {
        "AddressNumber": words[0],
        "StreetName": " ".join(words[1:-1]),
        "StreetNamePostType": words[-1],
    }
    rest = {label: text for label, text in parts.items() if label != "BuildingName"}
    return street | rest, "Street Address"


# The labels usaddress gives the parts of a military delivery line, in the order written.
_MILITARY_UNITS = (
    ("OccupancyType", "OccupancyIdentifier"),  # UNIT 2050
    ("SubaddressType", "SubaddressIdentifier"),
    ("USPSBoxGroupType", "USPSBoxGroupID"),  # PSC 802, CMR 450
)
_SHIP_LABELS = ("Recipient", "LandmarkName", "BuildingName")


def _military(parts: dict[str, str]) -> FieldResult:
    """An APO, FPO or DPO address (USPS Publication 28, section 23): the post office is the
    city and AA, AE or AP the state; the delivery line keeps its written order, a unit or a
    PSC/CMR number before the box ("Unit 2050 Box 4190", "PSC 802 Box 74"), or a ship's name
    and hull number ("USS Springfield SSN 761"), which usaddress takes for a recipient or a
    landmark (and the hull number for a box)."""
    ship_label = next(
        (label for label in _SHIP_LABELS if parts.get(label, "").split(" ")[0].upper() in _SHIPS),
        None,
    )
    words = []
    if ship_label:
        prefix, _, ship = parts[ship_label].partition(" ")
        words.append(" ".join(filter(None, [prefix.upper(), _title(ship)])))
    for kind, ident in _MILITARY_UNITS:
        if parts.get(ident):
            typed = parts.get(kind, "")
            group = typed.upper() if typed.upper() in _MILITARY_GROUPS else _title(typed)
            words.append(" ".join(filter(None, [group, _identifier(parts[ident])])))
    if parts.get("USPSBoxID"):
        # On a ship the "box" is the hull number, whose type is a code (SSN, DDG, CVN).
        box_type = parts.get("USPSBoxType", "").upper() if ship_label else "Box"
        words.append(" ".join(filter(None, [box_type, _identifier(parts["USPSBoxID"])])))
    if not words:
        return invalid(COMPONENTS, "address_no_number")
    line = " ".join(words)
    post_office = parts["PlaceName"].upper()
    state, zip_code = _state(parts.get("StateName", "")), _zip(parts.get("ZipCode", ""))
    used = {ship_label, "PlaceName", "StateName", "ZipCode", "USPSBoxType", "USPSBoxID"}
    used.update(label for pair in _MILITARY_UNITS for label in pair)
    notes = ("extra_parts_dropped",) if any(label not in used for label in parts) else ()
    last_line = " ".join(filter(None, [state, zip_code]))
    normalized = ", ".join(filter(None, [line, post_office, last_line]))
    return FieldResult(normalized, ("", line, "", post_office, state, zip_code), None, notes)


def _notes(parts: dict[str, str]) -> tuple[str, ...]:
    notes = []
    for label, table in _ABBREVIATED.items():
        typed = parts.get(label)
        if typed and _key(table.get(_key(typed), typed)) != _key(typed):
            notes.append("usps_abbreviated")
            break
    dropped = (label for label, text in parts.items() if text and label not in _USED)
    if any(not label.startswith(_USED_PREFIXES) for label in dropped):
        notes.append("extra_parts_dropped")
    return tuple(notes)


normalize_values = map_values(normalize_value)
