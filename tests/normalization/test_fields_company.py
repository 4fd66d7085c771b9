"""``company``: legal form split off and spelled one way; casing repaired, acronyms kept."""

from __future__ import annotations

import pytest
from hypothesis import given

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import company

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

VALID = [
    ("ACME HOLDINGS, L.L.C.", "Acme Holdings", "LLC"),
    ("Acme Holdings LLC", "Acme Holdings", "LLC"),
    ("acme,inc.", "Acme", "Inc."),
    ("ibm corp", "IBM", "Corp."),
    ("IBM Corporation", "IBM", "Corp."),
    ("international business machines corporation", "International Business Machines", "Corp."),
    ("AT&T INC", "AT&T", "Inc."),
    ("HSBC HOLDINGS PLC", "HSBC Holdings", "PLC"),  # no vowel: an acronym
    ("BAM", "BAM", ""),  # three capitals alone: an acronym
    ("UBS AG", "UBS", "AG"),
    ("bam", "Bam", ""),
    ("BAM INC", "Bam", "Inc."),  # "INC" for "Inc.": the caps lock was on
    ("KPMG LLP", "KPMG", "LLP"),
    ("3M COMPANY", "3M", "Co."),
    ("BANK OF AMERICA CORP", "Bank of America", "Corp."),
    ("MCDONALD'S CORP", "McDonald's", "Corp."),
    ("o'reilly media, inc.", "O'Reilly Media", "Inc."),
    ("eBay Inc.", "eBay", "Inc."),  # mixed case is the company's own spelling: kept
    ("jpmorgan chase & co.", "JPMorgan Chase", "& Co."),
    ("Siemens AG", "Siemens", "AG"),
    ("FOO GMBH & CO. KG", "Foo", "GmbH & Co. KG"),
    ("Acme Co., Ltd.", "Acme", "Co. Ltd."),  # two forms, each spelled
    ("Acme Limited", "Acme", "Ltd."),
    ("Société Générale S.A.", "Société Générale", "S.A."),
    ("Amazon UK", "Amazon UK", ""),  # "UK" is a cleanco term, too often part of the name
    ("The Coca-Cola Company", "The Coca-Cola", "Co."),
    ("google", "Google", ""),
    ("Sas B.V.", "Sas", "B.V."),  # Sas, a surname, before a form: not two forms (Faker nl_NL)
    ("Sá", "Sá", ""),  # a surname (Faker pt_BR), not "SA"
    # Brackets that pair up are part of the name; ones at an end that pair with nothing go.
    ("Acme Holdings (UK)", "Acme Holdings (UK)", ""),
    ("ACME HOLDINGS (UK) LIMITED", "Acme Holdings (UK)", "Ltd."),
    ("acme (europe) gmbh", "Acme (Europe)", "GmbH"),
    ("Главное управление войск (ГУОВ)", "Главное управление войск (ГУОВ)", ""),  # Faker ru_RU
    ("(Acme Inc.)", "Acme", "Inc."),
    ("[Acme] Inc.", "Acme", "Inc."),
    ("Acme Corp.)", "Acme", "Corp."),
    ("Acme Inc. (", "Acme", "Inc."),
    # Casing in other scripts: Cyrillic like Latin; Greek capitals kept (no accents to restore).
    ("сбербанк", "Сбербанк", ""),
    ("ромашка ооо", "Ромашка", "ООО"),
    ("ΑΘΗΝΑ ΑΕ", "ΑΘΗΝΑ ΑΕ", ""),
    # Leading terms are part of the name outside the languages that write forms first.
    ("AG Barr plc", "AG Barr", "PLC"),
    ("AS Roma", "AS Roma", ""),
]
# Forms written before the name (Russian, Ukrainian): (raw, value, base name, legal form).
LEADING = [
    ("ООО «Ромашка»", "ООО «Ромашка»", "Ромашка", "ООО"),
    ('ооо "ромашка"', 'ООО "Ромашка"', "Ромашка", "ООО"),
    ("ПРАТ «КИЇВСТАР»", "ПрАТ «Київстар»", "Київстар", "ПрАТ"),
    ("ИП Иванов И.И.", "ИП Иванов И.И.", "Иванов И.И.", "ИП"),
    ("ЗАО «Харитонова-Ильин» Ltd", "ЗАО «Харитонова-Ильин» Ltd.", "Харитонова-Ильин", "ЗАО Ltd."),
]
INVALID = [
    "LLC",
    "Inc.",
    "Co., Ltd.",
    "n/a",
    "N/A",
    "none",
    "---",
    "?",
    ", ,",
    "(  )",
    "GmbH & Co. KG",
    "unknown",
    "SA",
    "S.A.",
    "Co Ltd",
    "SAS BV",
    "ООО",
    "ООО «»",
]


@pytest.mark.parametrize(("raw", "base", "form"), VALID)
def test_valid(raw, base, form):
    value = f"{base} {form}" if form else base
    assert normalize(company, raw) == FieldResult(value, (base, form), None)


@pytest.mark.parametrize(("raw", "value", "base", "form"), LEADING)
def test_leading_legal_form(raw, value, base, form):
    result = normalize(company, raw)
    assert (result.value, result.components, result.reason) == (value, (base, form), None)
    assert normalize(company, value).value == value


@pytest.mark.parametrize("raw", INVALID)
def test_invalid(raw):
    assert normalize(company, raw) == invalid(company, "company_empty")


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID])
def test_idempotent(raw):
    first = normalize(company, raw)
    assert normalize(company, first.value) == first


@given(texts("abcXYZ &.,'-()0123456789", max_size=30))
def test_never_raises_and_is_idempotent(value):
    direct(company, value)
    assert_idempotent(company, value)
