"""``country``: ISO 3166-1 alpha-2 from codes, names and the aliases people type."""

from __future__ import annotations

import pycountry
import pytest
from hypothesis import given

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import country

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

VALID = [
    ("Germany", "DE", ("DEU", "Germany")),
    ("DEU", "DE", ("DEU", "Germany")),
    ("de", "DE", ("DEU", "Germany")),
    ("Deutschland", "DE", ("DEU", "Germany")),
    ("UK", "GB", ("GBR", "United Kingdom")),
    ("Great Britain", "GB", ("GBR", "United Kingdom")),
    ("England", "GB", ("GBR", "United Kingdom")),
    ("russia", "RU", ("RUS", "Russian Federation")),
    ("TURKEY", "TR", ("TUR", "Türkiye")),
    ("T\u00fcrkiye", "TR", ("TUR", "Türkiye")),
    ("USA", "US", ("USA", "United States")),
    ("U.S.A.", "US", ("USA", "United States")),
    ("United States of America", "US", ("USA", "United States")),
    ("South Korea", "KR", ("KOR", "Korea, Republic of")),
    ("Korea, Republic of", "KR", ("KOR", "Korea, Republic of")),
    ("North Korea", "KP", ("PRK", "Korea, Democratic People's Republic of")),
    ("The Netherlands", "NL", ("NLD", "Netherlands")),
    ("Holland", "NL", ("NLD", "Netherlands")),
    ("C\u00f4te d\u2019Ivoire", "CI", ("CIV", "Côte d'Ivoire")),  # typographic apostrophe
    ("Ivory Coast", "CI", ("CIV", "Côte d'Ivoire")),
    ("Czech Republic", "CZ", ("CZE", "Czechia")),
    ("Vietnam", "VN", ("VNM", "Viet Nam")),
    ("Bolivia", "BO", ("BOL", "Bolivia, Plurinational State of")),
    ("Taiwan", "TW", ("TWN", "Taiwan, Province of China")),
    ("  france  ", "FR", ("FRA", "France")),
    # Without the bracketed part, "St" for "Saint", and older or longer names (Faker's list).
    ("Slovakia (Slovak Republic)", "SK", ("SVK", "Slovakia")),
    ("Saint Martin", "MF", ("MAF", "Saint Martin (French part)")),
    ("St. Pierre and Miquelon", "PM", ("SPM", "Saint Pierre and Miquelon")),
    ("United States Virgin Islands", "VI", ("VIR", "Virgin Islands, U.S.")),
    ("Libyan Arab Jamahiriya", "LY", ("LBY", "Libya")),
    ("Svalbard & Jan Mayen Islands", "SJ", ("SJM", "Svalbard and Jan Mayen")),
    # Other languages (pycountry's translations), the head of a name with a comma, mojibake.
    ("Frankreich", "FR", ("FRA", "France")),
    ("Estados Unidos", "US", ("USA", "United States")),
    ("ドイツ", "DE", ("DEU", "Germany")),
    ("Bolivien", "BO", ("BOL", "Bolivia, Plurinational State of")),
    ("Kongo", "CG", ("COG", "Congo")),  # a whole name wins over the head of another
    ("C\u00c3\u00b4te d'Ivoire", "CI", ("CIV", "Côte d'Ivoire")),  # mojibake
]
INVALID = [
    "XX",
    "EU",  # a union, not a country
    "Europe",
    "840",  # numeric codes are not accepted (see the module docstring)
    "Korea",  # ambiguous: North or South
    "Virgin Islands",  # ambiguous: British or U.S.
    "Congo Republic Democratic Kinshasa",
    "Germany France",
    "Atlantis",
    "U",
    "---",
    "New York",
    "Yugoslavia",  # no longer exists: no current code
]


@pytest.mark.parametrize(("raw", "code", "components"), VALID)
def test_valid(raw, code, components):
    assert normalize(country, raw) == FieldResult(code, components, None)


@pytest.mark.parametrize("raw", INVALID)
def test_invalid(raw):
    assert normalize(country, raw) == invalid(country, "country_unknown")


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID])
def test_idempotent(raw):
    assert_idempotent(country, raw)


def test_every_iso_country_by_code_and_name():
    for entry in pycountry.countries:
        for spelling in (entry.alpha_2, entry.alpha_3, entry.name):
            assert direct(country, spelling).value == entry.alpha_2, spelling


@given(texts("abcdefghijklmnopqrstuvwxyzUSAK .,'-&"))
def test_never_raises_and_is_idempotent(value):
    direct(country, value)
    assert_idempotent(country, value)
