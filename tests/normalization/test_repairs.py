"""Repair notes: each field type says what it fixed, only when it did, with declared codes."""

from __future__ import annotations

import pytest

from nbjobs.normalization import REPAIRS
from nbjobs.normalization.fields import (
    address,
    city,
    company,
    country,
    date,
    email,
    name,
    phone,
    state,
    text,
    url,
    zipcode,
)
from nbjobs.normalization.registry import COMMON_REPAIRS, REGISTRY

from ._field_helpers import notes_of

NOTES = [
    # (module, raw, options, expected notes in order)
    (name, "Dr. Jane Roe, MD", {}, ("credential_removed", "title_removed")),
    (name, "Jane Roe MSc CSC ABS", {}, ("credential_removed",)),
    (name, "Mary (PhD) Jones", {}, ("credential_removed",)),
    (name, "Jane Roe, CEO", {}, ("job_title_removed",)),
    (name, "Alex Kim (they/them)", {}, ("pronoun_removed",)),
    (name, 'Robert "Bob" Smith', {}, ("nickname_extracted",)),
    (name, "Smith, John", {}, ("reordered_family_first",)),
    (name, "jOHN o'brien", {}, ("recased",)),
    (name, "JosÃ© GarcÃ\xada", {}, ("mojibake_repaired",)),
    (name, "José Núñez", {"ascii_names": True}, ("ascii_folded",)),
    (name, "Wang Xiaoming", {"east_asian_order": True}, ("reordered_family_first",)),
    (name, "José “Pepe” Núñez", {}, ("nickname_extracted",)),  # curly quotes: no mojibake
    (name, "Jane Roe", {}, ()),
    (name, "John Smith Jr.", {}, ()),
    (phone, "4l5 555 2671", {}, ("letter_typo_repaired",)),
    (phone, "415 555 2671 ext. 12", {}, ("extension_kept",)),
    (phone, "415 555 2671 (mobile)", {}, ("label_removed",)),
    (phone, "0044 20 7946 0958", {}, ("international_prefix_read",)),
    (phone, "+1 415 555 2671", {}, ()),
    (email, "John@Example.COM", {}, ("domain_lowercased",)),
    (email, "a@bücher.de", {}, ("idna_encoded",)),
    (email, "a@xn--bcher-kva.de", {}, ("idna_decoded",)),
    (email, "John.Doe+news@gmail.com", {"gmail_canonical": True}, ("gmail_canonicalized",)),
    (email, "johndoe@gmail.com", {"gmail_canonical": True}, ()),
    (email, "John@example.com", {}, ()),
    (email, "MAILTO:ann@x.org", {}, ("mailto_removed",)),
    (email, "ann@x.org;", {}, ("punctuation_removed",)),
    (email, "Ann Lee <ann@X.org>", {}, ("display_name_removed", "domain_lowercased")),
    (address, "123 north main street apt 4b, springfield il 62704", {}, ("usps_abbreviated",)),
    (address, "Attn John Smith 12 Main St, Boston MA 02134", {}, ("extra_parts_dropped",)),
    (address, "12 Main St", {}, ()),
    (city, "FT. WORTH", {}, ("recased", "abbreviation_expanded")),
    (city, "Austin, TX", {}, ("state_split_off",)),
    (city, "Boston", {}, ()),
    (company, "ACME HOLDINGS, L.L.C.", {}, ("recased", "legal_form_standardized")),
    (company, "eBay Inc.", {}, ()),
    (country, "UK", {}, ("alias_resolved",)),
    (country, "Germany", {}, ("converted_to_code",)),
    (country, "DE", {}, ()),
    (country, "C\u00c3\u00b4te d'Ivoire", {}, ("mojibake_repaired", "alias_resolved")),
    (state, "California", {}, ("abbreviated",)),
    (state, "c.a.", {}, ("reformatted",)),
    (state, "CA", {}, ()),
    (zipcode, "2134", {}, ("zero_padded",)),
    (zipcode, "12345 6789", {}, ("reformatted",)),
    (zipcode, "02134", {}, ()),
    (date, "03/05/2024", {}, ("reformatted",)),
    (date, "2024-03-05", {}, ()),
    (url, "https://www.shop.example.co.uk/a?b=1", {}, ("reduced_to_domain",)),
    (url, "Example.com", {}, ("lowercased",)),
    (url, "xn--bcher-kva.de", {}, ("idna_decoded",)),
    (url, "example.com.", {}, ("reformatted",)),  # the root DNS dot
    (url, "example.com", {}, ()),
    (text, "a \t b", {}, ("whitespace_collapsed",)),
    (text, "e\u0301", {}, ("unicode_normalized",)),
    (text, "ok", {}, ()),
]


@pytest.mark.parametrize(("module", "raw", "options", "expected"), NOTES)
def test_notes(module, raw, options, expected):
    assert notes_of(module, raw, **options) == expected


@pytest.mark.parametrize(
    ("module", "raw"), [(phone, "12"), (email, "broken@"), (name, "John & Jane Smith")]
)
def test_invalid_values_have_no_notes(module, raw):
    assert notes_of(module, raw) == ()


def test_every_type_declares_its_repairs_with_a_message():
    for field in REGISTRY.values():
        assert all(code and message for code, message in field.repairs.items()), field.name
    for module in (name, phone, email, address, city, company, country, state, zipcode, url):
        assert module.REPAIRS, module.NAME


def test_a_code_shared_by_types_means_the_same_everywhere():
    for field in REGISTRY.values():
        for code, message in field.repairs.items():
            assert REPAIRS[code] == message, (field.name, code)


def test_each_declared_code_is_covered_by_a_vector():
    covered = {(module.NAME, code) for module, _, _, notes in NOTES for code in notes}
    declared = {
        (field.name, code)
        for field in REGISTRY.values()
        for code in field.repairs
        if code not in COMMON_REPAIRS  # every type's: test_invisible_characters_are_removed
    }
    assert declared == covered


# A valid value of each type, with no repair of its own.
PLAIN = {
    "address": "12 Main St, Austin, TX 78701",
    "city": "Austin",
    "company": "Acme Inc.",
    "country": "DE",
    "date": "2024-03-05",
    "email": "ann@example.com",
    "name": "Ann Lee",
    "phone": "+14155552671",
    "state": "TX",
    "text": "ok",
    "url": "example.com",
    "zip": "02134",
}


@pytest.mark.parametrize("kind", sorted(REGISTRY))
@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u2060", "\u200e", "\u202c"])
def test_invisible_characters_are_removed(kind, invisible):
    # As copy and paste brings them along: inside, before and after the value.
    field = REGISTRY[kind]
    clean = field.normalize([PLAIN[kind]], {})[0]
    assert clean.reason is None and clean.notes == (), clean
    for value in (
        invisible + PLAIN[kind],
        PLAIN[kind] + invisible,
        PLAIN[kind][:2] + invisible + PLAIN[kind][2:],
    ):
        assert field.normalize([value], {})[0] == clean._replace(notes=("invisible_removed",))
    assert field.normalize([invisible * 3], {})[0] == field.normalize([""], {})[0]  # empty


def test_joiners_that_spell_words_are_kept():
    # Persian writes some words with a zero-width non-joiner; emoji sequences use the joiner.
    assert (
        REGISTRY["text"].normalize(["\u0645\u06cc\u200c\u062e\u0648\u0627\u0645"], {})[0].notes
        == ()
    )
