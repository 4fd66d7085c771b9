"""``name``: one person's name, cleaned of everything that is not the name, parsed by nameparser.

Cleaning, in order: mojibake repaired by ftfy ("JosÃ©" -> "José"); pronouns dropped ("(she/her)");
a nickname in quotes or parentheses set aside as a component; the value split at commas and
spaced dashes, and each part that is a generational suffix ("Jr."), credentials ("MD, FACS",
"MSc CSC ABS") or a job title ("CEO", "VP of Sales") taken out; titles before the name ("Dr.",
"Prof.") kept as the ``prefix`` component; credentials after it dropped. The word lists live in
``data/name_*.json``.

Casing is nameparser's ``capitalize(force=True)``: "jOHN o'brien" -> "John O'Brien", "mcdonald"
-> "McDonald", "mary-jane van der berg" -> "Mary-Jane van der Berg" (force=True also turns
"DeVito" into "Devito": mixed-case input is not trusted). "Smith, John" -> "John Smith".

The normalized value is ``first middle last suffix``: the person, without prefix, credentials or
nickname, so "Dr. Jane Roe, MD" and "Jane Roe" normalize alike and match when deduplicating.

Invalid: digits (``name_has_digits``); two people, joined by "&", "+", "/" or "and"
(``name_multiple_people``); an organization, by a legal form or company word
(``name_company``); a job title and nothing else (``name_only_title``); nothing left
(``name_empty``).

Speed: nameparser is about two thirds of the cost of a name. The cleaned text of most names
("First M. Last", "Last, First", plain letters, no word nameparser's vocabulary holds) is split
and cased by ``_parse_simple`` instead, which gives what nameparser gives; anything else goes to
nameparser, its readings memoized (``_parse``). ``_normalize_slow`` sends every value to
nameparser; tests hold the two equal.

Options: ``ascii_names`` folds to ASCII ("José" -> "Jose"); ``east_asian_order`` reads
"Wang Xiaoming" family name first (first "Xiaoming", last "Wang") when the first word is a common
East Asian surname and the last is not (off by default: it would also turn "Kim Smith" around).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from functools import cache, lru_cache
from unicodedata import category as _category

import ftfy
from anyascii import anyascii
from nameparser import HumanName, Lexicon

from . import SHARED_REPAIRS, FieldResult, OptionsMap, invalid, map_values
from ._name_words import NameWords, dotless_key, name_words
from ._options import flag

NAME = "name"
COMPONENTS = ("prefix", "first", "middle", "last", "suffix", "nickname")
REASONS = {
    "name_has_digits": "A name cannot contain digits.",
    "name_multiple_people": 'More than one person in one value (joined by "&", "+", "/" or "and").',
    "name_company": "An organization (legal form or company word such as LLC or Holdings).",
    "name_only_title": "Only a job title, no name.",
    "name_empty": "No first, middle or last name (only a title, credential or punctuation).",
}
REPAIRS = {
    "mojibake_repaired": SHARED_REPAIRS["mojibake_repaired"],
    "ascii_folded": "Folded to ASCII (option ascii_names).",
    "pronoun_removed": 'Pronouns removed ("(she/her)").',
    "nickname_extracted": "A nickname in quotes or brackets moved to the nickname component.",
    "title_removed": 'A title ("Dr.", "Mr") moved to the prefix component.',
    "credential_removed": 'Credentials or post-nominals removed ("MD", "PhD, CFP").',
    "job_title_removed": 'A job title removed ("CEO", "VP of Sales").',
    "reordered_family_first": 'Read family name first ("Smith, John" -> "John Smith").',
    "recased": SHARED_REPAIRS["recased"],
}
OPTIONS = {
    "ascii_names": flag("ascii_names", "Fold names to ASCII: José Núñez -> Jose Nunez."),
    "east_asian_order": flag(
        "east_asian_order",
        "Read names that start with a common East Asian surname family name first.",
    ),
}

_PRONOUN = r"(?:she|her|hers|he|him|his|they|them|theirs?|ze|zir|hir|xe|xem|xyr|it|its)"
_PRONOUNS = re.compile(
    rf"\(?\s*(?:pronouns?\s+)?\b{_PRONOUN}(?:\s*/\s*{_PRONOUN})+\b\s*\)?", re.IGNORECASE
)
# The closing quote must not be followed by a letter, nor the opening one preceded by one, so
# the apostrophes of O'Brien and D'Arcy are never read as quotes.
_NICKNAME = re.compile(
    r"\"([^\"]*)\"|\u201c([^\u201d]*)\u201d|\(([^()]*)\)|\[([^\[\]]*)\]"
    r"|(?<!\w)'([^']*)'(?!\w)|\u2018([^\u2019]*)\u2019"
)
# The characters a _NICKNAME match starts with: text without any has none.
_NICKNAME_OPENERS = frozenset("\"\u201c(['\u2018")
_UNPAIRED = str.maketrans('()[]"\u201c\u201d', "       ")
_SEPARATORS = re.compile(r",|;|\s[-\u2013\u2014|]\s|\s[\u2013\u2014]|[\u2013\u2014]\s")
_MAX_REPAIR_ROUNDS = 3
_NAME_PUNCTUATION = frozenset("-'.,;&+/()[]\"|\u2018\u2019\u201c\u201d\u2013\u2014\u02bc")
# The ASCII punctuation not in _NAME_PUNCTUATION, dropped on the fast path for ASCII text.
_ASCII_SYMBOLS = str.maketrans("", "", "!#$%*:<=>?@\\^_`{}~")
_MULTIPLE = re.compile(r"&|\+|/|\band\b", re.IGNORECASE)
# Han, kana and Hangul: scripts nameparser reads family name first.
_CJK = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
)
# The Dutch article "'t" (het), elided: part of the surname, apostrophe and all, lowercase
# ("van 't Riet", "'t Hooft"); nameparser reads it as a surname prefix.
_ELIDED_ARTICLES = frozenset({"'t", "\u2019t"})
# Quotes, brackets or dashes left at either end of a word (dots only before: "Q." is an initial).
_STRAY = re.compile(r"^[\"'()\[\]{}<>*_~`.-]+|[\"'()\[\]{}<>*_~`-]+$")
# The letters of the fast path (_parse_simple): Latin letters with one lowercase and one
# uppercase form that casefold as they lowercase; not "ß", "ŉ", "İ" or "ǅ", which case oddly.
_LETTERS = "".join(
    c
    for c in map(chr, [*range(0x41, 0x5B), *range(0x61, 0x7B), *range(0xC0, 0x250)])
    if _category(c) in ("Lu", "Ll")
    and len(c.lower()) == len(c.upper()) == 1
    and c.lower() == c.casefold() == c.upper().lower()
    and c.upper() == c.lower().upper()
)
# A word of those letters, its parts joined by hyphens or apostrophes ("Jean-Luc", "O'Brien").
_SIMPLE_WORD = re.compile(rf"[{_LETTERS}]+(?:[-'][{_LETTERS}]+)*")
_SIMPLE_INITIAL = re.compile(rf"[{_LETTERS}]\.")
_LETTER_RUN = re.compile(rf"[{_LETTERS}]+")
_WORD_PARTS = re.compile(r"[-']")
# nameparser's Mac/Mc rule ("mcdonald" -> "McDonald").
_MAC = re.compile(rf"(ma?c)(?=[{_LETTERS}]{{2}})", re.IGNORECASE)


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    return _normalize_value(value, options, fast=True)


def _normalize_slow(value: str, options: OptionsMap) -> FieldResult:
    """Every value through nameparser: what ``normalize_value`` must equal (tests compare)."""
    return _normalize_value(value, options, fast=False)


def _normalize_value(value: str, options: OptionsMap, *, fast: bool) -> FieldResult:
    result, unsure = _normalize(value, options, fast=fast)
    for _ in range(_MAX_REPAIR_ROUNDS):
        # Rare outputs would read differently when normalized again: casing can make text that
        # ftfy takes for mojibake ("àª" -> "Àª" -> "˻"), and a word nameparser took for a title
        # or suffix that our lists don't hold may read otherwise. Settle on a fixed point.
        output = result.value
        if not output or not (unsure or (not output.isascii() and ftfy.fix_text(output) != output)):
            break
        again, unsure = _normalize(output, options, fast=fast)
        if again.value == output:
            break
        result = again._replace(notes=tuple(dict.fromkeys(result.notes + again.notes)))
    return result


def _normalize(value: str, options: OptionsMap, *, fast: bool) -> tuple[FieldResult, bool]:
    """The result, and whether it may change when normalized again (see normalize_value)."""
    words = name_words()
    notes: list[str] = []  # repair codes, in the order the repairs happen
    text = value
    if not text.isascii():
        fixed, steps = ftfy.fix_and_explain(text)
        if any(step.action in ("encode", "decode", "transcode") for step in steps or ()):
            notes.append("mojibake_repaired")
        text = _drop_symbols(unicodedata.normalize("NFC", fixed))
    if options.get("ascii_names"):
        folded = anyascii(text)
        if folded != text:
            notes.append("ascii_folded")
        text = folded
    # "J.R.R. Tolkien" -> "J. R. R. Tolkien", as nameparser reads (and rewrites) initials.
    text = text.translate(_ASCII_SYMBOLS)
    if "." in text:
        text = words.spaced_initials(text)
    text = " ".join(text.split())
    if any(map(str.isdigit, text)):
        return invalid(COMPONENTS, "name_has_digits"), False
    if "/" in text:  # every pronoun pattern has one ("she/her"): most names skip the regex
        text, pronouns = _PRONOUNS.subn(" ", text)
        if pronouns:
            notes.append("pronoun_removed")

    nicknames: list[str] = []
    # Brackets and quotes left unpaired are noise: "A(B" is no nickname.
    if not _NICKNAME_OPENERS.isdisjoint(text):
        text = _NICKNAME.sub(lambda m: _set_aside(m, words, nicknames, notes), text)
    text = text.translate(_UNPAIRED)

    names, suffixes, had_job = _split_parts(text, words, notes, shouting=value.isupper())
    if not names:
        return invalid(COMPONENTS, "name_only_title" if had_job else "name_empty"), False
    # "Smith, John": a lone "," token keeps nameparser's family-first reading of a comma.
    joined = f"{names[0]} , {' '.join(names[1:])}" if len(names) > 1 else names[0]
    tokens = joined.split()
    if words.is_company([t for t in tokens if t != ","]):
        return invalid(COMPONENTS, "name_company"), False

    prefixes = _take_prefixes(tokens, words)
    core = " ".join(tokens).replace(" ,", ",").strip(", ")
    if _MULTIPLE.search(core):
        return invalid(COMPONENTS, "name_multiple_people"), False
    if options.get("east_asian_order"):
        core = _family_first(core, words)

    parsed = (fast and _parse_simple(core)) or _parse(core)
    typed, cased, title, suffix_list, nickname = parsed
    title = _case_title(title, value)
    if title and not any(typed) and " " not in core and words.lone_name(core):
        # A lone word that is also a title ("King", "Bishop": surnames in a "Last Name"
        # column) is a name, as any lone word is.
        typed, cased, title = (core, "", ""), (_cap_words(core), "", ""), ""
    first, middle, last = (
        _keep_typed_case(t, _mac_cased(c)) for t, c in zip(typed, cased, strict=True)
    )
    # A title only nameparser knows ("National") may leave a name it reads otherwise alone.
    generational, unsure = [], bool(title)
    for piece in suffix_list:
        key = dotless_key(piece)
        if key in words.generational:
            generational.append(words.generational[key])
        elif not _is_credentials(piece.split(), words, trusted=False):
            # nameparser's suffix list is longer than ours, and a word we kept as a name
            # ("A Ra": Ra is also the credential RA) stays a name: after the comma of "Coenen,
            # Cas" the given name, else part of the surname.
            if not first and "," in core:
                first = _capitalize(piece)
            else:
                last = f"{last} {_capitalize(piece)}".strip()
            unsure = True
        else:
            notes.append("credential_removed")
    if not any(map(str.isalpha, first + middle + last)):
        return invalid(COMPONENTS, "name_empty"), False
    prefix = " ".join([*prefixes, title]).strip()
    suffix = " ".join([*generational, *suffixes])
    nickname = " ".join([*(_capitalize(n) for n in nicknames), nickname]).strip()
    if last.rsplit(" ", 1)[-1].islower():
        # A particle ends the name ("A, de" -> last "A de"): nothing follows it to attach to.
        head, _, particle = last.rpartition(" ")
        last = f"{head} {particle[:1].upper()}{particle[1:]}".strip()
    if not first and (middle or last)[:1].islower():
        # A lone particle-led surname ("van Gogh") opens the value: capitalized there, as
        # nameparser would read it the next time.
        middle, last = (p[:1].upper() + p[1:] if p else p for p in (middle, last))
    normalized = " ".join(p for p in (first, middle, last, suffix) if p)
    written_order = bool(_CJK.search(core))
    if written_order:
        # nameparser reads a name in Chinese, Japanese or Korean script family name first, as
        # it is written ("山崎 陽子", "김민준"): the components say which part is which, and the
        # value keeps the written order (turned around, it would turn back when normalized again).
        normalized = " ".join([*core.replace(",", " ").split(), suffix]).strip()
    if prefix:
        notes.append("title_removed")
    if nickname:
        notes.append("nickname_extracted")
    if "," in core and not written_order:  # nameparser reads "Smith, John" family name first
        notes.append("reordered_family_first")
    if any(" ".join(t.split()) != p for t, p in zip(typed, (first, middle, last), strict=True)):
        notes.append("recased")
    if prefix and first and not middle and not last:
        first, last = "", first  # "Dr. Smith", "Mrs. Robinson": a title goes with a surname
    components = (prefix, first, middle, last, suffix, nickname)
    return FieldResult(normalized, components, None, tuple(dict.fromkeys(notes))), unsure


normalize_values = map_values(normalize_value)

# (first, middle, last as typed), (the same recased), title as typed, suffixes, nickname
_Parsed = tuple[tuple[str, str, str], tuple[str, str, str], str, tuple[str, ...], str]


# nameparser takes ~0.3 ms a name, and the cleaned text it gets recurs across values that
# differ in what cleaning removed ("Dr. Li Wang, MD", "li wang"): its readings are memoized,
# each a few short strings (~0.8 kB measured), so ~13 MB when full.
@lru_cache(maxsize=1 << 14)
def _parse(core: str) -> _Parsed:
    """nameparser's reading of ``core``, recased with ``capitalize(force=True)``."""
    name = HumanName(core)
    typed, title = (name.first, name.middle, name.last), name.title
    name.capitalize(force=True)
    first, middle, last = (" ".join(p.split()) for p in (name.first, name.middle, name.last))
    return typed, (first, middle, last), title, tuple(name.suffix_list), name.nickname


def _case_title(title: str, value: str) -> str:
    """A title only nameparser knows (as typed), as typed unless the whole ``value`` is in one
    case: nameparser's casing capitalizes every word and every part after a hyphen (Bulgarian
    "Mrs.", G-zha, got a capital after its hyphen; "Ing. arch." became "Ing. Arch."), where
    titles keep their own."""
    if not title or not (value.isupper() or value.islower()):
        return title
    known = name_words().titles
    return " ".join(
        known.get(dotless_key(word)) or word[:1].upper() + word[1:].lower()
        for word in title.split()
    )


def _parse_simple(core: str) -> _Parsed | None:
    """What :func:`_parse` gives, without nameparser, for the shapes most names take once
    cleaned: "First [Middle ...] [particles] Last" or "[particles] Last, First [Middle ...]",
    with at most two middle names or initials ("M."), in words of plain letters
    (``_SIMPLE_WORD``) that are not in nameparser's vocabulary (a title, suffix, particle,
    conjunction, recorded casing) or spelled with roman numerals only, but where nameparser
    reads such words as names all the same (``_simple_token``'s kinds, measured on generated
    names): particles before the family name ("de la Cruz"), a title anywhere but first
    ("Stephen King", "Mary King Smith"), roman-numeral letters in the given name or before the
    comma ("Li Wang", "Li, Wang"), the initials of ``_PLAIN_INITIALS``. None for anything
    else. The vocabulary is nameparser's default, which ``HumanName`` uses unless
    ``nameparser.config.CONSTANTS`` is changed (nbjobs never changes it). A property test
    holds this equal to ``_parse``."""
    head, comma, tail = core.partition(", ")
    if "," in tail:
        return None
    if comma:
        given, family = tail.split(" "), head.split(" ")
    else:
        tokens = core.split(" ")
        # The family name is the last word, and the particles right before it ("Juan de la
        # Cruz"): from the first particle after the given name on ("Juan de la Cruz Garcia").
        start = next(
            (i for i, token in enumerate(tokens) if i and _simple_token(token) == "particle"),
            len(tokens) - 1,
        )
        given, family = tokens[:start], tokens[start:]
    if not 1 <= len(given) <= 3 or not family:
        return None
    if _simple_token(given[0]) not in ("word", "roman") or any(
        _simple_token(token) not in ("word", "title", "initial") for token in given[1:]
    ):
        return None
    particles = 0
    while particles < len(family) and _simple_token(family[particles]) == "particle":
        particles += 1
    surname = family[particles:]
    if particles:
        # After particles, plain words only: one after a comma (nameparser reads a comma after
        # two otherwise), one or two without.
        if not 1 <= len(surname) <= (1 if comma else 2) or any(
            _simple_token(token) != "word" for token in surname
        ):
            return None
    elif len(surname) != 1 or _simple_token(surname[0]) not in (
        ("word", "title", "roman") if comma else ("word", "title")
    ):
        return None
    first, *middles = given
    middle = " ".join(middles)
    cased_last = " ".join([*(p.lower() for p in family[:particles]), _cap_words(" ".join(surname))])
    cased = (_cap_words(first), _cap_words(middle), cased_last)
    return (first, middle, " ".join(family)), cased, "", (), ""


# Initials of letters in nameparser's vocabulary (the conjunctions "e" and "y", the numerals
# "i" and "v", "z") that it reads as initials between the given and the family name all the
# same (measured; the property test holds it).
_PLAIN_INITIALS = frozenset("eivyz")


@lru_cache(maxsize=1 << 16)
def _simple_token(token: str) -> str | None:
    """How ``_parse_simple`` may take ``token``: "word", a word of plain letters outside
    nameparser's vocabulary; "particle", a surname particle, and "title", a title and nothing
    else to nameparser (``_special_words``); "roman", a word of roman-numeral letters only
    ("Li", "Vic", "Mill"), which nameparser may read as a generational suffix ("IV"); "initial",
    a letter and a dot; None, not at all."""
    words, parts = _nameparser_vocabulary()
    if _SIMPLE_WORD.fullmatch(token) and len(token) > 1:
        lowered = token.lower()
        particles, titles = _special_words()
        if lowered in particles:
            return "particle"
        if lowered in titles:
            return "title"
        pieces = _WORD_PARTS.split(lowered)
        if len(pieces) == 1 and lowered not in words and not lowered.strip("ivxlcdm"):
            return "roman"
        if lowered in words or any(part in parts or not part.strip("ivxlcdm") for part in pieces):
            return None
        return "word"
    if not _SIMPLE_INITIAL.fullmatch(token):
        return None
    letter = token[0].lower()
    if letter in words and letter not in _PLAIN_INITIALS:
        return None  # "Ó.": read otherwise by nameparser
    return "initial"


@cache
def _special_words() -> tuple[frozenset[str], frozenset[str]]:
    """The surname particles ("de", "van", "von", "ter") and the titles ("king", "judge",
    "bishop") of nameparser's default vocabulary that are nothing else in it, lowercased, in
    plain letters. One of those particles before a family name is part of it, in lowercase
    ("Van Der Berg" -> "van der Berg"); one of those titles is a title only before the given
    name ("King Charles") and a name anywhere else ("Stephen King"). Left out: "st" (a
    particle and a title), "do", "abu", "mc" (read their own ways)."""
    lexicon = Lexicon.default()
    groups = {
        "particles": "particles",
        "particles_ambiguous": "particles",
        "titles": "titles",
        "given_name_titles": "titles",
    }
    found: dict[str, set[str]] = {"particles": set(), "titles": set()}
    elsewhere = {entry.lower() for entry in lexicon.capitalization_exceptions_map}
    for field in dataclasses.fields(lexicon):
        value = getattr(lexicon, field.name)
        if isinstance(value, frozenset):
            lowered = {entry.lower() for entry in value}
            if field.name in groups:
                found[groups[field.name]] |= lowered
            else:
                elsewhere |= lowered
    particles, titles = found["particles"], found["titles"]

    def plain(words: set[str]) -> frozenset[str]:
        return frozenset(
            word
            for word in words - elsewhere
            if _SIMPLE_WORD.fullmatch(word) and not _WORD_PARTS.search(word)
        )

    return plain(particles - titles), plain(titles - particles)


@lru_cache(maxsize=1 << 16)
def _cap_words(text: str) -> str:
    """nameparser's force-casing of the plain words of ``text`` (memoized: names recur)."""
    return _LETTER_RUN.sub(_cap_word, text)


@cache
def _nameparser_vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """The words of nameparser's default vocabulary, lowercased as it matches them: a word in
    it may be read as a title, suffix, particle, conjunction or recased its own way. Each entry
    whole and by word ("lt col": "lt", "col"); then the same with the words also split at
    hyphens and apostrophes ("d'": "d"), to check the parts of a word ("D'Arcy")."""
    lexicon = Lexicon.default()
    entries = [*lexicon.capitalization_exceptions_map]
    for field in dataclasses.fields(lexicon):
        value = getattr(lexicon, field.name)
        if isinstance(value, frozenset):
            entries.extend(value)
    lowered = [entry.lower() for entry in entries]
    words = {*lowered, *(w for e in lowered for w in re.split(r"[\s.]+", e) if w)}
    parts = {*words, *(p for w in words for p in re.split(r"[-']+", w) if p)}
    return frozenset(words), frozenset(parts)


def _cap_word(match: re.Match[str]) -> str:
    """nameparser's force-casing of a run of letters outside its vocabulary."""
    word = match.group()
    mac = _MAC.match(word)
    if mac is None:
        return word.capitalize()
    cut = mac.end()
    return word[:cut].capitalize() + word[cut:].capitalize()


def _set_aside(
    match: re.Match[str], words: NameWords, nicknames: list[str], notes: list[str]
) -> str:
    """A bracketed or quoted part: a nickname, unless it is credentials or a job title."""
    inner = " ".join(next(g for g in match.groups() if g is not None).split())
    if not inner:
        return " "
    if _is_credentials(inner.split(), words, trusted=True):
        notes.append("credential_removed")
    elif words.is_job_title(inner, after_name=True):
        notes.append("job_title_removed")
    else:
        nicknames.append(inner)
    return " "


def _split_parts(
    text: str, words: NameWords, notes: list[str], *, shouting: bool
) -> tuple[list[str], list[str], bool]:
    """Parts at commas and dashes: (name parts without their trailing credentials,
    generational suffixes, saw a job title); what was dropped goes to ``notes``."""
    names: list[str] = []
    suffixes: list[str] = []
    had_job = False
    for index, raw in enumerate(_SEPARATORS.split(text)):
        part = " ".join([w for w in map(_part_word, raw.split()) if w is not None])
        if not part:
            continue
        key = dotless_key(part)
        if key in words.generational and index > 0:
            suffixes.append(words.generational[key])
        elif _is_credentials(part.split(), words, trusted=index > 0):
            notes.append("credential_removed")
        elif words.is_job_title(part, after_name=bool(names)):
            had_job = True
            notes.append("job_title_removed")
        else:
            tokens = part.split()
            suffixes.extend(_take_trailing(tokens, words, notes, shouting=shouting))
            names.append(" ".join(tokens))
    return names, suffixes, had_job


@lru_cache(maxsize=1 << 16)
def _part_word(word: str) -> str | None:
    """``word`` without stray quotes, brackets and dashes at its ends; None for a word of
    punctuation alone, except the joiners that mark two people ("&", "+", "/")."""
    if word.casefold() in _ELIDED_ARTICLES:
        return word.casefold()
    stripped = _STRAY.sub("", word)
    if stripped in "&+/" or any(map(str.isalnum, stripped)):
        return stripped
    return None


def _is_credentials(tokens: list[str], words: NameWords, *, trusted: bool) -> bool:
    """Whether ``tokens`` are nothing but credentials ("MSc CSC ABS", "LEED AP")."""
    end = len(tokens)
    while end > 0:
        start = _credential_start(tokens, end, words, trusted=trusted)
        if start is None:
            return False
        end = start
    return bool(tokens)


def _credential_start(
    tokens: list[str], end: int, words: NameWords, *, trusted: bool
) -> int | None:
    """Where a credential ending at ``end`` starts, the longest match first, or None."""
    if end and not words.may_end_credential(tokens[end - 1]):
        return None
    for width in range(min(words.credential_words, end), 0, -1):
        if words.is_credential(tokens[end - width : end], trusted=trusted):
            return end - width
    return None


def _take_prefixes(tokens: list[str], words: NameWords) -> list[str]:
    """Titles at the start ("Dr.", "Rt. Hon."), removed from ``tokens``; a name stays."""
    prefixes = []
    # Not before the comma of "Lord, Joshua" or "Bishop, Anna": there it is the family name.
    while len(tokens) > 1 and tokens[1] != "," and dotless_key(tokens[0]) in words.titles:
        prefixes.append(words.titles[dotless_key(tokens.pop(0))])
    return prefixes


def _take_trailing(
    tokens: list[str], words: NameWords, notes: list[str], *, shouting: bool
) -> list[str]:
    """Credentials and generational suffixes at the end, removed from ``tokens``: the
    credentials dropped, the suffixes returned. A name stays."""
    suffixes: list[str] = []
    while len(tokens) > 1:
        key = dotless_key(tokens[-1])
        if key in words.generational:
            suffixes.insert(0, words.generational[key])
            tokens.pop()
            continue
        # An all-capitals word in mixed-case text is written as a credential ("Jane Roe MA");
        # in all-capitals text nothing is, so "JOHN MA" keeps its surname.
        trusted = not shouting and tokens[-1].isupper()
        start = _credential_start(tokens, len(tokens), words, trusted=trusted)
        if start is None or start == 0:
            break
        del tokens[start:]
        notes.append("credential_removed")
    return suffixes


def _family_first(core: str, words: NameWords) -> str:
    """ "Wang Xiaoming" -> "Wang, Xiaoming" (nameparser's family-first form), when only the
    first word is a known surname: that keeps the result stable when normalized again."""
    parts = core.split()
    surnames = words.east_asian_surnames
    if "," in core or not 2 <= len(parts) <= 3:
        return core
    if parts[0].casefold() in surnames and parts[-1].casefold() not in surnames:
        return f"{parts[0]}, {' '.join(parts[1:])}"
    return core


def _keep_typed_case(typed: str, cased: str) -> str:
    """``cased`` (the rules' casing), except where a word's typed casing is evidently meant:
    a capital inside it ("DeShawn", "DiCaprio", "McKenzie") or a particle typed capitalized
    ("Le Guin", "Van Dyke", which the rules lower). Words typed in one case ("SMITH",
    "mcdonald"), with caps lock on ("jOHN") or merely capitalized ("Mcdonald", "O'neil", as
    systems that capitalize every word write them) take the rules' casing."""
    if typed == cased or typed.islower() or typed.isupper():
        return cased  # most names: nothing typed on purpose to keep
    typed_words, cased_words = typed.split(), cased.split()
    if len(typed_words) != len(cased_words):
        return cased
    return " ".join(
        t if _typed_wins(t, c) else c for t, c in zip(typed_words, cased_words, strict=True)
    )


def _typed_wins(typed: str, cased: str) -> bool:
    """Whether a word keeps its typed casing over the rules' ``cased``: typed with a capital
    first, not in capitals only, and with a capital inside ("DeShawn") or as a particle the
    rules would lower ("Le")."""
    if not typed[:1].isupper() or typed.isupper() or typed.lower() != cased.lower():
        return False
    return typed[1:] != typed[1:].lower() or cased[:1].islower()


_MAC_CAPITAL = re.compile(r"\bMac(?=[A-Z])\w+")  # nameparser's "MacXxx"


def _mac_cased(text: str) -> str:
    """nameparser's "Mac" capital only where the surname takes it (``name_mac_surnames``):
    "MacDonald", but "Machado", "Macias", "Maciej"."""
    if "Mac" not in text:
        return text
    known = name_words().mac_surnames
    return _MAC_CAPITAL.sub(lambda m: m[0] if m[0].casefold() in known else m[0].capitalize(), text)


def _drop_symbols(text: str) -> str:
    """Letters, marks, digits, spaces and the punctuation names are written with; not "†", "™"
    or emoji, which no name holds and which, left in, could later read as mojibake to ftfy."""
    return "".join(c for c in text if c in _NAME_PUNCTUATION or _category(c)[0] in "LMNZ")


def _capitalize(text: str) -> str:
    """Nickname casing: as typed, unless typed in one case ("JACK", "jj" -> "Jack", "Jj")."""
    if text.islower() or text.isupper():
        return " ".join(
            "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))
            for word in text.split()
        )
    return text
