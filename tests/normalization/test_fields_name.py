"""``name``: cleaning (titles, credentials, pronouns, job titles), casing, the invalid cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import name
from nbjobs.normalization.fields._name_words import name_words

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

# (input, normalized, (prefix, first, middle, last, suffix, nickname))
VALID = [
    ("jOHN o'brien", "John O'Brien", ("", "John", "", "O'Brien", "", "")),
    ("mcdonald", "McDonald", ("", "McDonald", "", "", "", "")),
    ("ronald mcdonald", "Ronald McDonald", ("", "Ronald", "", "McDonald", "", "")),
    ("dr. john q. public jr.", "John Q. Public Jr.", ("Dr.", "John", "Q.", "Public", "Jr.", "")),
    ('John "Jack" Kennedy', "John Kennedy", ("", "John", "", "Kennedy", "", "Jack")),
    ("William (Bill) Gates", "William Gates", ("", "William", "", "Gates", "", "Bill")),
    ("john 'JJ' o'neil", "John O'Neil", ("", "John", "", "O'Neil", "", "Jj")),
    ("Smith, John", "John Smith", ("", "John", "", "Smith", "", "")),
    # Before the comma, a word that is also a title is the family name (Faker en_GB, pl_PL).
    ("Lord, Joshua", "Joshua Lord", ("", "Joshua", "", "Lord", "", "")),
    ("Bishop, Anna", "Anna Bishop", ("", "Anna", "", "Bishop", "", "")),
    ("Dr. Smith, John", "John Smith", ("Dr.", "John", "", "Smith", "", "")),
    # After it, a given name that nameparser takes for a suffix (CAS): not part of the surname.
    ("Coenen, Cas", "Cas Coenen", ("", "Cas", "", "Coenen", "", "")),
    # The Dutch article 't, apostrophe and all (Faker nl_NL); was "van T Riet".
    ("Liz van 't Riet", "Liz van 't Riet", ("", "Liz", "", "van 't Riet", "", "")),
    ("GERARD 'T HOOFT", "Gerard 't Hooft", ("", "Gerard", "", "'t Hooft", "", "")),
    ("Smith, John, Jr.", "John Smith Jr.", ("", "John", "", "Smith", "Jr.", "")),
    ("Henry Ford III", "Henry Ford III", ("", "Henry", "", "Ford", "III", "")),
    ("Robert Downey jr", "Robert Downey Jr.", ("", "Robert", "", "Downey", "Jr.", "")),
    (
        "mary-jane van der berg",
        "Mary-Jane van der Berg",
        ("", "Mary-Jane", "", "van der Berg", "", ""),
    ),
    ("JEAN DE LA FONTAINE", "Jean de la Fontaine", ("", "Jean", "", "de la Fontaine", "", "")),
    ("ludwig van beethoven", "Ludwig van Beethoven", ("", "Ludwig", "", "van Beethoven", "", "")),
    (
        "Anne-Marie O'NEIL-SMITH",
        "Anne-Marie O'Neil-Smith",
        ("", "Anne-Marie", "", "O'Neil-Smith", "", ""),
    ),
    ("  josé   álvarez  ", "José Álvarez", ("", "José", "", "Álvarez", "", "")),
    ("e\u0301milie dupont", "\u00c9milie Dupont", ("", "\u00c9milie", "", "Dupont", "", "")),
    ("JosÃ© GarcÃ­a", "José García", ("", "José", "", "García", "", "")),  # mojibake
    ("FranÃ§ois MÃ¼ller", "François Müller", ("", "François", "", "Müller", "", "")),
    # Titles become the prefix; credentials and post-nominals go.
    ("Sir Patrick Stewart OBE", "Patrick Stewart", ("Sir", "Patrick", "", "Stewart", "", "")),
    ("JOHN SMITH, PHD", "John Smith", ("", "John", "", "Smith", "", "")),
    ("Dr. Jane Roe, MD, FACS", "Jane Roe", ("Dr.", "Jane", "", "Roe", "", "")),
    ("Mr. John Smith, M.D.", "John Smith", ("Mr.", "John", "", "Smith", "", "")),
    ("Jane Doe MSc CSC ABS", "Jane Doe", ("", "Jane", "", "Doe", "", "")),
    ("Mary O'Connor RN, BSN", "Mary O'Connor", ("", "Mary", "", "O'Connor", "", "")),
    ("Tom Hanks CFP, ChFC", "Tom Hanks", ("", "Tom", "", "Hanks", "", "")),
    ("Ann Lee, CPA, CISSP", "Ann Lee", ("", "Ann", "", "Lee", "", "")),
    ("Raj Patel P.Eng.", "Raj Patel", ("", "Raj", "", "Patel", "", "")),
    ("Laura Chen, J.D., LL.M.", "Laura Chen", ("", "Laura", "", "Chen", "", "")),
    ("Ed Brown, Ed.D.", "Ed Brown", ("", "Ed", "", "Brown", "", "")),
    ("Jane Roe MA", "Jane Roe", ("", "Jane", "", "Roe", "", "")),  # capitals: a credential
    ("JANE MA", "Jane Ma", ("", "Jane", "", "Ma", "", "")),  # all capitals: the surname Ma
    ("John Smith Jr. MD", "John Smith Jr.", ("", "John", "", "Smith", "Jr.", "")),
    ("Gen. Colin Powell (Ret.)", "Colin Powell", ("Gen.", "Colin", "", "Powell", "", "")),
    ("Prof. Dr. Hans Müller", "Hans Müller", ("Prof. Dr.", "Hans", "", "Müller", "", "")),
    ("Dr. Smith", "Smith", ("Dr.", "", "", "Smith", "", "")),  # a title goes with a surname
    ("Sig.ra Matilda Costanzi", "Matilda Costanzi", ("Sig.ra", "Matilda", "", "Costanzi", "", "")),
    ("MUDr. Silvie Blažková DiS.", "Silvie Blažková", ("MUDr.", "Silvie", "", "Blažková", "", "")),
    ("JUDr. Robert Havel, CSc.", "Robert Havel", ("JUDr.", "Robert", "", "Havel", "", "")),
    ("MRS. ROBINSON", "Robinson", ("Mrs.", "", "", "Robinson", "", "")),
    # Titles only nameparser knows keep their own casing (Faker bg_BG, cs_CZ).
    ("Г-жа Мария Иванова", "Мария Иванова", ("Г-жа", "Мария", "", "Иванова", "", "")),
    ("Г-ЖА МАРИЯ ИВАНОВА", "Мария Иванова", ("Г-жа", "Мария", "", "Иванова", "", "")),
    (
        "Ing. arch. Ladislav Musil",
        "Ladislav Musil",
        ("Ing. arch.", "Ladislav", "", "Musil", "", ""),
    ),
    (
        "DR MARTIN LUTHER KING, JR",
        "Martin Luther King Jr.",
        ("Dr.", "Martin", "Luther", "King", "Jr.", ""),
    ),
    ("Rt. Hon. Theresa May MP", "Theresa May", ("Rt. Hon.", "Theresa", "", "May", "", "")),
    # Pronouns go.
    ("Alex Kim (they/them)", "Alex Kim", ("", "Alex", "", "Kim", "", "")),
    ("Sam Rivera she/her", "Sam Rivera", ("", "Sam", "", "Rivera", "", "")),
    # Job titles after a comma or dash go.
    ("John Smith, CEO", "John Smith", ("", "John", "", "Smith", "", "")),
    ("Jane Doe - VP of Sales & Marketing", "Jane Doe", ("", "Jane", "", "Doe", "", "")),
    ("Maria Rossi \u2013 Marketing Director", "Maria Rossi", ("", "Maria", "", "Rossi", "", "")),
    ("John Smith, Senior Software Engineer", "John Smith", ("", "John", "", "Smith", "", "")),
    ("Kate Bell | Head of Product", "Kate Bell", ("", "Kate", "", "Bell", "", "")),
    # Occupational surnames are names, not job titles.
    ("Tom Cook", "Tom Cook", ("", "Tom", "", "Cook", "", "")),
    ("Adam Driver", "Adam Driver", ("", "Adam", "", "Driver", "", "")),
    # Casing meant as typed (a capital inside a word, a particle typed capitalized) is kept;
    # words in one case or merely capitalized take the rules' casing.
    ("Ji-hoon Park", "Ji-Hoon Park", ("", "Ji-Hoon", "", "Park", "", "")),
    ("Mary O'neil", "Mary O'Neil", ("", "Mary", "", "O'Neil", "", "")),
    ("John Mcdonald", "John McDonald", ("", "John", "", "McDonald", "", "")),
    # "Mac" takes a capital after it only in the surnames that are written so.
    ("john macdonald", "John MacDonald", ("", "John", "", "MacDonald", "", "")),
    ("JOHN MACHADO", "John Machado", ("", "John", "", "Machado", "", "")),
    ("mackenzie smith", "Mackenzie Smith", ("", "Mackenzie", "", "Smith", "", "")),
    ("maciej nowak", "Maciej Nowak", ("", "Maciej", "", "Nowak", "", "")),
    ("DeShawn JONES", "DeShawn Jones", ("", "DeShawn", "", "Jones", "", "")),
    ("Leonardo DiCaprio", "Leonardo DiCaprio", ("", "Leonardo", "", "DiCaprio", "", "")),
    ("Ursula K. Le Guin", "Ursula K. Le Guin", ("", "Ursula", "K.", "Le Guin", "", "")),
    ("Dick Van Dyke", "Dick Van Dyke", ("", "Dick", "", "Van Dyke", "", "")),
    ("JoAnn MACLEOD", "JoAnn MacLeod", ("", "JoAnn", "", "MacLeod", "", "")),
    ("ursula le guin", "Ursula le Guin", ("", "Ursula", "", "le Guin", "", "")),
    ("Anderson Andrews", "Anderson Andrews", ("", "Anderson", "", "Andrews", "", "")),
    ("Blas Company Almansa", "Blas Company Almansa", ("", "Blas", "Company", "Almansa", "", "")),
    ("Co Nguyen", "Co Nguyen", ("", "Co", "", "Nguyen", "", "")),
    # Credentials that are also names count only where the writing shows a credential.
    ("Li Peng", "Li Peng", ("", "Li", "", "Peng", "", "")),
    ("Le Mai", "Le Mai", ("", "Le", "", "Mai", "", "")),
    ("Raj Patel, MEng", "Raj Patel", ("", "Raj", "", "Patel", "", "")),
    # Chinese, Japanese and Korean script: family name first, as written, and so kept.
    ("山崎 陽子", "山崎 陽子", ("", "陽子", "", "山崎", "", "")),
    ("김민준", "김민준", ("", "민준", "", "김", "", "")),
    # A lone word that a title list also holds: a surname, as a "Last Name" column holds them
    # (Faker's King, Bishop, Lord, Pastor); was name_empty.
    ("King", "King", ("", "King", "", "", "", "")),
    ("BISHOP", "Bishop", ("", "Bishop", "", "", "", "")),
    ("Pastor", "Pastor", ("", "Pastor", "", "", "", "")),
]
INVALID = [
    ("R2D2", "name_has_digits"),
    ("Agent 007", "name_has_digits"),
    ("John Smith 3rd", "name_has_digits"),
    ("JOHN AND JANE DOE", "name_multiple_people"),
    ("John & Jane Smith", "name_multiple_people"),
    ("Mr and Mrs Lee", "name_multiple_people"),
    ("Mr. & Mrs. Smith", "name_multiple_people"),
    ("Bob+Alice Jones", "name_multiple_people"),
    ("John/Jane Doe", "name_multiple_people"),
    ("Acme Holdings LLC", "name_company"),
    ("Acme, Inc.", "name_company"),
    ("Globex Corporation", "name_company"),
    ("Müller GmbH", "name_company"),
    ("Smith & Sons", "name_company"),
    ("CEO", "name_only_title"),
    ("Software Engineer", "name_only_title"),
    ("VP of Sales", "name_only_title"),
    ("Senior Product Manager", "name_only_title"),
    ("Dr.", "name_empty"),
    ("Prof", "name_empty"),  # an abbreviated title alone
    ("Sir", "name_empty"),
    ("Miss", "name_empty"),  # a form of address, never a name alone
    ("---", "name_empty"),
    ('"Jack"', "name_empty"),
    ("PhD, MBA", "name_empty"),
    ("(she/her)", "name_empty"),
]
# (input, options, normalized, components)
WITH_OPTIONS = [
    (
        "José Núñez",
        {"ascii_names": True},
        "Jose Nunez",
        ("", "Jose", "", "Nunez", "", ""),
    ),
    ("Łukasz Żółw", {"ascii_names": True}, "Lukasz Zolw", ("", "Lukasz", "", "Zolw", "", "")),
    ("JosÃ© Ãlvarez", {"ascii_names": True}, "Jose Alvarez", ("", "Jose", "", "Alvarez", "", "")),
    (
        "Wang Xiaoming",
        {"east_asian_order": True},
        "Xiaoming Wang",
        ("", "Xiaoming", "", "Wang", "", ""),
    ),
    ("KIM JI-HOON", {"east_asian_order": True}, "Ji-Hoon Kim", ("", "Ji-Hoon", "", "Kim", "", "")),
    (
        "Tanaka Hiroshi",
        {"east_asian_order": True},
        "Hiroshi Tanaka",
        ("", "Hiroshi", "", "Tanaka", "", ""),
    ),
    # Both ends surnames, or a comma: nothing to turn around.
    ("Lee Chen", {"east_asian_order": True}, "Lee Chen", ("", "Lee", "", "Chen", "", "")),
    ("Wang, Li", {"east_asian_order": True}, "Li Wang", ("", "Li", "", "Wang", "", "")),
    ("Wang Xiaoming", {}, "Wang Xiaoming", ("", "Wang", "", "Xiaoming", "", "")),  # off by default
]


@pytest.mark.parametrize(("raw", "value", "components"), VALID)
def test_valid(raw, value, components):
    assert normalize(name, raw) == FieldResult(value, components, None)


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_invalid(raw, reason):
    assert normalize(name, raw) == invalid(name, reason)


@pytest.mark.parametrize(("raw", "options", "value", "components"), WITH_OPTIONS)
def test_options(raw, options, value, components):
    assert normalize(name, raw, **options) == FieldResult(value, components, None)


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID])
def test_idempotent(raw):
    assert_idempotent(name, raw)


@pytest.mark.parametrize(("raw", "options"), [(v, o) for v, o, _, _ in WITH_OPTIONS])
def test_idempotent_with_options(raw, options):
    assert_idempotent(name, raw, **options)


def test_word_lists_are_loaded_and_large():
    words = name_words()
    assert len(words.credentials) >= 500
    assert {"md", "phd", "cfp", "cpa", "esq", "pe", "cissp", "edd", "msc"} <= words.credentials
    assert len(words.job_titles) >= 150 and "software engineer" in words.job_titles
    assert {"llc", "gmbh", "inc"} <= words.legal_forms
    assert words.titles["dr"] == "Dr."
    # The lists must not swallow common names.
    assert not {"ma", "do", "ed", "lee", "kim"} & words.credentials
    assert not {"cook", "baker", "driver", "mason", "judge"} & words.job_heads


# Name-shaped values: a title, words of letters (any case, accents, particles), a suffix,
# credentials or a job title, a nickname, each where people put them. Arbitrary text only has
# to come back without raising: on garbage such as "AD.,DE" nameparser's reading may shift.
_WORD = st.text("abcdefghijklmnopqrstuvwxyzéüñøł", min_size=2, max_size=9)
_CASED = st.one_of(_WORD.map(str.capitalize), _WORD, _WORD.map(str.upper))
_PARTICLE = st.sampled_from(["", "van ", "de la ", "O'", "Mc", "al-"])
_WORDS = st.lists(st.tuples(_PARTICLE, _CASED).map("".join), min_size=1, max_size=4)
_SHAPES = st.tuples(
    st.sampled_from(["", "Dr. ", "mr ", "Prof. ", "SIR "]),
    _WORDS.map(" ".join),
    st.sampled_from(["", " Jr.", " III", ", MD", " PhD, CFP", " - CEO", ", VP of Sales"]),
    st.sampled_from(["", " (Bill)", ' "jj"', " (she/her)"]),
).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts("abcdeJOHNSMITH ,.-'\"()&/MDPhDrCEOVPofSales"))
def test_never_raises(value):
    direct(name, value)
    direct(name, value, ascii_names=True, east_asian_order=True)


@settings(max_examples=300, deadline=None)
@given(_SHAPES)
def test_idempotent_on_name_shaped_values(value):
    assert_idempotent(name, value)


@settings(max_examples=150, deadline=None)
@given(st.one_of(_SHAPES, st.text("WangLiKimXiaomngJosÃ©Ã¼ -", max_size=30)))
def test_idempotent_with_options_on_name_shaped_values(value):
    assert_idempotent(name, value, ascii_names=True, east_asian_order=True)
