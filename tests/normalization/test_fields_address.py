"""``address``: US addresses parsed by usaddress, USPS abbreviations, Title Case."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import usaddress
from hypothesis import given, settings
from hypothesis import strategies as st

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import address

from ._field_helpers import direct, invalid, normalize, texts

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from contacts import messy_address

# These tests hold nbjobs' own shortcuts equal to usaddress itself: they run on it.
pytestmark = pytest.mark.usefixtures("reference_parser")

# (input, normalized, (house_number, street, unit, city, state, zip))
VALID = [
    # Military addresses (USPS Publication 28, section 23), as Faker writes them too: the
    # delivery line in its written order, the post office in capitals as the city.
    (
        "PSC 1234, Box 5678 APO AA 12345",
        "PSC 1234 Box 5678, APO, AA 12345",
        ("", "PSC 1234 Box 5678", "", "APO", "AA", "12345"),
    ),
    (  # without the comma usaddress reads two boxes (a repeated label)
        "psc 802 box 74 apo ae 09499-0074",
        "PSC 802 Box 74, APO, AE 09499-0074",
        ("", "PSC 802 Box 74", "", "APO", "AE", "09499-0074"),
    ),
    (
        "cmr 450 box 6010 apo ae 09001",
        "CMR 450 Box 6010, APO, AE 09001",
        ("", "CMR 450 Box 6010", "", "APO", "AE", "09001"),
    ),
    (  # was "Box 5678 Unit 1234, Dpo, AP 12345"
        "Unit 1234 Box 5678 DPO AP 12345",
        "Unit 1234 Box 5678, DPO, AP 12345",
        ("", "Unit 1234 Box 5678", "", "DPO", "AP", "12345"),
    ),
    (  # a ship and its hull number; was "Ssn 761, Fpo, AP 96698", the ship dropped
        "USS Springfield SSN 761, FPO AP 96698",
        "USS Springfield SSN 761, FPO, AP 96698",
        ("", "USS Springfield SSN 761", "", "FPO", "AP", "96698"),
    ),
    (  # usaddress reads "5920 Allen Plaza" as a building's name (Faker's profile())
        "5920 Allen Plaza Apt. 130\nPaulhaven, NC 50581",
        "5920 Allen Plz Apt 130, Paulhaven, NC 50581",
        ("5920", "Allen Plz", "Apt 130", "Paulhaven", "NC", "50581"),
    ),
    (  # a ship without its hull number; was address_no_number
        "USCGC Garcia, FPO AP 36035",
        "USCGC Garcia, FPO, AP 36035",
        ("", "USCGC Garcia", "", "FPO", "AP", "36035"),
    ),
    (  # USPS suffixes beyond the common ones: every primary name of Publication 28's C1
        "5858 rowe coves, micheleton ne 12452",
        "5858 Rowe Cvs, Micheleton, NE 12452",
        ("5858", "Rowe Cvs", "", "Micheleton", "NE", "12452"),
    ),
    (  # a spelled-out house number or unit is a word, not a code
        "One Infinite Loop unit rear, Cupertino, CA 95014",
        "One Infinite Loop Unit Rear, Cupertino, CA 95014",
        ("One", "Infinite Loop", "Unit Rear", "Cupertino", "CA", "95014"),
    ),
    (
        "123 north main street apt 4b, springfield il 62704",
        "123 N Main St Apt 4B, Springfield, IL 62704",
        ("123", "N Main St", "Apt 4B", "Springfield", "IL", "62704"),
    ),
    (
        "1600 pennsylvania avenue northwest washington dc 20500",
        "1600 Pennsylvania Ave NW, Washington, DC 20500",
        ("1600", "Pennsylvania Ave NW", "", "Washington", "DC", "20500"),
    ),
    (
        "350 FIFTH AVENUE FL 34 NEW YORK NY 10118",
        "350 Fifth Ave Fl 34, New York, NY 10118",
        ("350", "Fifth Ave", "Fl 34", "New York", "NY", "10118"),
    ),
    (
        "500 mcdonald blvd suite 200 st. louis mo 63101",
        "500 McDonald Blvd Ste 200, St. Louis, MO 63101",
        ("500", "McDonald Blvd", "Ste 200", "St. Louis", "MO", "63101"),
    ),
    (
        "12 E 42nd St., New York, NY 10017",
        "12 E 42nd St, New York, NY 10017",
        ("12", "E 42nd St", "", "New York", "NY", "10017"),
    ),
    (
        "1 Infinite Loop, Cupertino, California 95014-2083",
        "1 Infinite Loop, Cupertino, CA 95014-2083",
        ("1", "Infinite Loop", "", "Cupertino", "CA", "95014-2083"),
    ),
    (
        "123 Main St, Springfield, IL 2134",  # ZIP zeros restored as the zip type does
        "123 Main St, Springfield, IL 02134",
        ("123", "Main St", "", "Springfield", "IL", "02134"),
    ),
    ("123 Main St #4", "123 Main St # 4", ("123", "Main St", "# 4", "", "", "")),
    ("123 1/2 Main St", "123 1/2 Main St", ("123 1/2", "Main St", "", "", "", "")),
    ("123a main st", "123A Main St", ("123A", "Main St", "", "", "", "")),
    (
        "100 Avenue of the Americas",
        "100 Ave of the Americas",
        ("100", "Ave of the Americas", "", "", "", ""),
    ),
    # A named highway stays spelled out, as in Pub 28 ("US HIGHWAY 1"); "Hwy" is the suffix.
    ("2130 us highway 1 s", "2130 US Highway 1 S", ("2130", "US Highway 1 S", "", "", "", "")),
    (
        "Attn John Smith, 500 W 2nd St Ste 100",  # the recipient is not part of the address
        "500 W 2nd St Ste 100",
        ("500", "W 2nd St", "Ste 100", "", "", ""),
    ),
    (
        "742 evergreen terrace, springfield",
        "742 Evergreen Ter, Springfield",
        ("742", "Evergreen Ter", "", "Springfield", "", ""),
    ),
    (
        "PO Box 123, Austin TX 78701",
        "PO Box 123, Austin, TX 78701",
        ("", "PO Box 123", "", "Austin", "TX", "78701"),
    ),
    ("P.O. BOX 55", "PO Box 55", ("", "PO Box 55", "", "", "", "")),
]
INVALID = [
    ("123 Main St Apt 1 Apt 2", "address_unparseable"),  # usaddress: RepeatedLabelError
    ("Broadway & 5th Ave, New York", "address_no_number"),  # an intersection
    ("hello world", "address_no_number"),
    ("Main Street", "address_no_number"),
    ("Springfield, IL 62704", "address_no_number"),
    ("42", "address_no_number"),
    ("---", "address_no_number"),
    ("N/A", "address_no_number"),
    ("\x00\x01\x02", "address_no_number"),
    ("call me maybe", "address_no_number"),
    ("12345", "address_no_number"),  # a ZIP code alone
    ("FPO AE 09001", "address_no_number"),  # a military post office alone
    ("123 Apt 4", "address_no_street"),
    ("123, Springfield IL", "address_no_street"),
    ("1 Apt 2, Boston MA", "address_unparseable"),
]


@pytest.mark.parametrize(("raw", "value", "components"), VALID)
def test_valid(raw, value, components):
    assert normalize(address, raw) == FieldResult(value, components, None)


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_invalid(raw, reason):
    assert normalize(address, raw) == invalid(address, reason)


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID])
def test_idempotent(raw):
    first = normalize(address, raw)
    assert normalize(address, first.value) == first


def test_every_standard_abbreviation_stands_for_itself():
    # Publication 28 lists MDW under MEADOWS as well as MEADOW: "Meadow" -> "Mdw" -> "Mdws".
    for table, standards in (
        (address._SUFFIXES, address._USPS["suffixes"]),
        (address._DIRECTIONS, address._USPS["directions"]),
        (address._UNITS, address._USPS["units"]),
    ):
        assert [s for s in standards if table[address._key(s)] != s] == []
    first = normalize(address, "9759 Jackson Meadow Suite 037, Danielhaven, CA 70882").value
    assert first == "9759 Jackson Mdw Ste 037, Danielhaven, CA 70882"
    assert normalize(address, first).value == first


def test_a_line_break_separates_the_street_line_from_the_city():
    # As CRMs export and Faker writes them: "East Amy" is the city, not "Ford E" and "Amy".
    assert normalize(address, "19497 Ronald Ford\nEast Amy, AL 29399").components == (
        "19497",
        "Ronald Frd",
        "",
        "East Amy",
        "AL",
        "29399",
    )


def test_a_parser_error_is_a_reason_not_a_crash():
    # Straight to the module: the registry would hide an exception as unexpected_error.
    assert direct(address, "123 Main St Apt 1 Apt 2").reason == "address_unparseable"


# Realistic addresses in messy spellings, for the idempotence property: on garbage, usaddress's
# labels can flip between a string and its normalized form, and that is the parser's doubt.
_REALISTIC = st.builds(
    "{} {}{} {}{}{}".format,
    st.sampled_from(["1", "42", "123", "1600", "350A", "7-11"]),
    st.sampled_from(["", "n ", "North ", "SW ", "e. "]),
    st.sampled_from(["main", "OAK", "Pennsylvania", "42nd", "Martin Luther King Jr", "mcdonald"]),
    st.sampled_from(["st", "Street", "AVE.", "boulevard", "Rd", "Lane", "parkway", "way"]),
    st.sampled_from(["", " apt 4b", " Suite 200", " #12", " FL 3", " unit C"]),
    st.sampled_from(
        ["", ", springfield il 62704", ", New York, NY 10118", " Austin TX 78701-1234"]
    ),
)


@settings(deadline=None)  # usaddress loads its model on first use
@given(texts("0123456789 abcdefmnostNSEW#,.-/&", max_size=50))
def test_never_raises(value):
    direct(address, value)


@settings(deadline=None)
@given(_REALISTIC)
def test_idempotent_on_realistic_addresses(value):
    first = direct(address, value)
    assert first.value, value
    assert direct(address, first.value)[:3] == first[:3]  # notes: what the first pass fixed


# The fast path (``_tag``: usaddress's tokenizer and CRF tagger called directly, features
# cached per token) must agree with usaddress.tag itself, parse for parse.
def _reference_tag(value: str) -> tuple[dict[str, str], str] | type[Exception] | None:
    try:
        return usaddress.tag(value)
    except usaddress.RepeatedLabelError:
        return None
    except Exception as error:
        return type(error)


def _fast_tag(value: str) -> tuple[dict[str, str], str] | type[Exception] | None:
    try:
        return address._tag(value)
    except Exception as error:
        return type(error)


def _assert_same_as_usaddress(value: str) -> None:
    expected, got = _reference_tag(value), _fast_tag(value)
    assert got == expected, value
    if isinstance(got, tuple):  # the same labels in the same order
        assert list(got[0].items()) == list(expected[0].items()), value
    assert address.normalize_value(value, {}) == address._normalize_reference(value), value


def test_fast_path_matches_usaddress_on_generated_addresses():
    rng = random.Random(5)
    for _ in range(2000):
        _assert_same_as_usaddress(messy_address(rng))


# Beside the vectors: no token at all, a token usaddress's features special-case, and a token
# pycrfsuite cannot encode (it raises SystemError on a lone surrogate).
_EDGE_CASES = ["", "#", "½", "12 Ma\ud800in St"]


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID] + [v for v, _ in INVALID] + _EDGE_CASES)
def test_fast_path_matches_usaddress_on_vectors(raw):
    _assert_same_as_usaddress(raw)


@settings(deadline=None, max_examples=300)
@given(_REALISTIC | texts("0123456789 abcdefmnostNSEW#,.-/&();½", max_size=60) | st.text())
def test_fast_path_matches_usaddress(value):
    _assert_same_as_usaddress(value)


def test_token_cache_is_bounded():
    assert address._token_attributes.cache_info().maxsize == address._TOKEN_CACHE_SIZE
