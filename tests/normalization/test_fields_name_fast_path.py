"""``name``'s fast path gives what nameparser gives, to the last component and note.

``_parse_simple`` stands in for nameparser on the simple shapes; ``_normalize_slow`` is the
field with every value through nameparser. Both are compared on name-shaped text (words from
nameparser's own vocabulary and our lists among them, letters that case oddly, initials,
hyphens, apostrophes, commas) and on the benchmark's generated contact names.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nbjobs.normalization.fields import name
from nbjobs.normalization.fields._name_words import name_words

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from contacts import messy_full_name

_OPTIONS = [{}, {"ascii_names": True}, {"east_asian_order": True}]


def _vocabulary_words() -> list[str]:
    words, _ = name._nameparser_vocabulary()
    ours = name_words()
    listed = [*ours.titles, *ours.generational, *ours.credentials, *ours.legal_forms]
    return sorted(w for w in {*words, *listed} if w.isalpha() or "-" in w or "'" in w)


_PLAIN = st.text("abcdefghijklmnopqrstuvwxyzéüñøłçåó", min_size=2, max_size=8)
# Letters that case oddly: ß, İ, dotless i, ŉ, long s, ǅ, modifier apostrophe.
_ODD = st.text("abcdeéüñAÉÜMÇßİ\u0131ŉ\u017fǅ\u02bc", min_size=1, max_size=6)
_KNOWN = st.sampled_from(_vocabulary_words())
_NAMEISH = st.sampled_from(
    ["mac", "mc", "macarthur", "mcdonald", "macy", "o", "d", "jean", "vi", "xiv", "mill"]
)


def _cased(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    case = st.sampled_from([str, str.upper, str.capitalize, str.title])
    return st.tuples(words, case).map(lambda pair: pair[1](pair[0]))


def _tokens(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A word, an initial ("Q."), or words joined by hyphens or apostrophes."""
    cased = _cased(words)
    joined = st.tuples(st.lists(cased, min_size=2, max_size=3), st.sampled_from(["-", "'"]))
    initial = cased.map(lambda word: word[:1] + ".")
    return st.one_of(cased, cased, cased, initial, joined.map(lambda pair: pair[1].join(pair[0])))


def _core(tokens: st.SearchStrategy[list[str]]) -> st.SearchStrategy[str]:
    """As ``_normalize`` hands text to nameparser: words joined by single spaces, at most one
    ", " after the first word ("Last, First M.")."""
    return st.tuples(tokens, st.booleans()).map(
        lambda pair: f"{pair[0][0]}, {' '.join(pair[0][1:])}" if pair[1] else " ".join(pair[0])
    )


# Mostly the shapes the fast path takes (a word, up to two middle words or initials, a word),
# with now and then a word it must leave to nameparser; then anything name-like.
_LIKELY_WORD = _cased(st.one_of(*[_PLAIN] * 12, _ODD, _KNOWN, _NAMEISH))
_LIKELY = st.tuples(
    _LIKELY_WORD, st.lists(_tokens(st.one_of(*[_PLAIN] * 12, _KNOWN)), max_size=2), _LIKELY_WORD
).map(lambda parts: [parts[0], *parts[1], parts[2]])
_ANY = _tokens(st.one_of(_PLAIN, _PLAIN, _ODD, _KNOWN, _NAMEISH))
_TOKENS = st.lists(_ANY, min_size=1, max_size=5)
# Surnames with particles ("de la Cruz", "Van Der Berg Smith"), given name first or after a
# comma, now and then with a vocabulary word or an initial where the fast path must give up.
_PARTICLE = _cased(st.sampled_from(sorted(name._special_words()[0])))
_GIVEN = st.tuples(
    _LIKELY_WORD, st.lists(_tokens(st.one_of(*[_PLAIN] * 6, _KNOWN)), max_size=2)
).map(lambda parts: [parts[0], *parts[1]])
_FAMILY = st.tuples(
    st.lists(_PARTICLE, min_size=1, max_size=3),
    st.lists(
        _tokens(st.one_of(*[_PLAIN] * 12, _KNOWN, _NAMEISH, _PARTICLE)), min_size=0, max_size=3
    ),
).map(lambda parts: [*parts[0], *parts[1]])
_PARTICLE_CORE = st.tuples(_GIVEN, _FAMILY, st.booleans()).map(
    lambda parts: (
        f"{' '.join(parts[1])}, {' '.join(parts[0])}"
        if parts[2]
        else " ".join([*parts[0], *parts[1]])
    )
)
_CORE = st.one_of(_core(_LIKELY), _core(_TOKENS), _PARTICLE_CORE)


@settings(max_examples=2000, deadline=None)
@given(_CORE)
@example("mary r. king")
@example("Robert T. Macarthur")
@example("jean-luc d'arcy")
@example("ROBINSON, O'NEIL B.")
@example("müller, zoë ø.")
@example("ÿæèw vi")
@example("Juan de la Cruz Garcia")
@example("de la Cruz Garcia, Juan")
@example("Charles E. Y. Anderson")
@example("Stephen King")
@example("li, vic king")
@example("Mill Dean, Vi")
def test_fast_parse_equals_nameparser(core):
    fast = name._parse_simple(core)
    if fast is not None:
        assert fast == name._parse(core)


@pytest.mark.parametrize(
    "core",
    [
        "John Smith",
        "Smith, John Q.",
        "jean-luc o'neil",
        "ANNE B. C. MÜLLER",
        "mcdonald, ronald",
        "Anthony De La Cruz",
        "george j. van der berg",
        "Juan de la Cruz Garcia",
        "Van Der Berg, Joshua E.",
        "Charles E. Anderson",
        "Emily King",
        "Mary King Smith",
        "King, Emily",
        "Li Wang",
        "Li, Wang",
    ],
)
def test_fast_parse_takes_the_common_shapes(core):
    # Without this, a fast path that never fires would pass the comparisons above.
    assert name._parse_simple(core) is not None


@pytest.mark.parametrize(
    "core",
    [
        "King Emily",  # a title first is a title
        "Smith, King",
        "Wang Li",  # "LI", maybe a suffix, last
        "Jr Smith",
        "John",
        "van Gogh",  # a particle first
        "Juan de la",  # particles with no family name after them
        "de la Cruz Garcia, Juan",  # nameparser reads this comma otherwise
        "Ana de la Cruz van Berg",  # two runs of particles
        "Ann Ó. Smith",  # an initial nameparser reads otherwise
    ],
)
def test_fast_parse_leaves_vocabulary_and_other_shapes_to_nameparser(core):
    assert name._parse_simple(core) is None


_RAW = st.tuples(
    st.sampled_from(["", "Dr. ", "mr ", "SIR ", "King "]),
    _TOKENS.map(" ".join),
    st.sampled_from(["", " Jr.", " III", ", MD", ", Smith", " - CEO", " (Bill)", " (she/her)"]),
).map("".join)


@settings(max_examples=800, deadline=None)
@given(_RAW, st.sampled_from(_OPTIONS))
def test_field_equals_the_nameparser_only_path(value, options):
    assert name.normalize_value(value, options) == name._normalize_slow(value, options)


def test_field_equals_the_nameparser_only_path_on_the_benchmark_names():
    rng = random.Random(7)
    names = list(dict.fromkeys(messy_full_name(rng) for _ in range(2000)))
    for options in _OPTIONS:
        fast = [name.normalize_value(value, options) for value in names]
        assert fast == [name._normalize_slow(value, options) for value in names]


def _credential_start_unfiltered(tokens, end, words, *, trusted):
    """``_credential_start`` without its quick check on the last word: every width tried."""
    for width in range(min(words.credential_words, end), 0, -1):
        if words.is_credential(tokens[end - width : end], trusted=trusted):
            return end - width
    return None


def _credential_spellings() -> list[str]:
    ours = name_words()
    keys = sorted(ours.credentials | ours.ambiguous_credentials)
    return [*keys, *(k.upper() for k in keys), *(". ".join(k.upper()) + "." for k in keys)]


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_credential_spellings()).flatmap(lambda c: st.just(c.split())), _TOKENS
        ),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
)
def test_credential_start_equals_trying_every_width(groups, trusted):
    tokens = [token for group in groups for token in group]
    words = name_words()
    for end in range(len(tokens) + 1):
        assert name._credential_start(
            tokens, end, words, trusted=trusted
        ) == _credential_start_unfiltered(tokens, end, words, trusted=trusted)


def test_every_credential_ends_with_a_word_that_may_end_one():
    words = name_words()
    for spelling in _credential_spellings():
        assert words.may_end_credential(spelling.split()[-1]), spelling


def test_memoized_parse_equals_a_fresh_parse_on_the_benchmark_names():
    # ``_parse`` is memoized: a cached reading is the one nameparser gives afresh.
    rng = random.Random(17)
    cores = ["Li Allen", "steven king", "van der berg, margaret s.", "JOSEPH E. GARCIA"]
    cores += [" ".join(messy_full_name(rng).split()) for _ in range(300)]
    for core in cores:
        fresh = name._parse.__wrapped__(core)
        assert name._parse(core) == fresh, core
        assert name._parse(core) == fresh, core  # from the cache
