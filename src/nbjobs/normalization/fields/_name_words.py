"""The word lists the ``name`` field recognizes, loaded once from ``data/name_*.json``.

Lists are matched by key, so a list entry matches however it is typed: credentials and titles by
:func:`dotless_key` ("M.D." = "md" = "MD"), job titles by :func:`phrase_key`.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from ._tables import load_json

_NOT_WORD = re.compile(r"[^\w&]+")
_DOT = re.compile(r"\.\s*")
# Dotted credentials arrive split into initials ("F. A. C. S."): how many words a match may span.
_MAX_DOTTED_WORDS = 6
# Keys are memoized: the same words (first names, "MD", "Jr.") recur in most names.
_KEY_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=_KEY_CACHE_SIZE)
def dotless_key(text: str) -> str:
    """Case- and dot-insensitive: "Ph. D." -> "phd", "LEED  AP" -> "leed ap". Other spaces
    stay, so the initials "R N" never read as the credential RN."""
    return " ".join(_DOT.sub("", text.casefold()).split())


@lru_cache(maxsize=_KEY_CACHE_SIZE)
def phrase_key(text: str) -> str:
    """Words only, lowercased: "Co-Founder & CEO" -> "co founder & ceo"."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


class NameWords:
    """Every list the name field consults, as lookup sets or key -> display-form maps."""

    def __init__(self) -> None:
        titles = load_json("name_titles.json")
        self.titles = {dotless_key(t): t for t in titles["titles"]}
        # Initials typed without spaces ("J.R.R.") are spaced, as nameparser reads them; titles
        # written with a dot inside ("Sig.ra", "Dott.ssa") stay whole.
        glued = [re.escape(t) for t in titles["titles"] if re.search(r"\.\w", t)]
        self._initials = re.compile(rf"\b(?:{'|'.join(glued)})(?!\w)|\.(?=\w)", re.IGNORECASE)
        self.generational = {dotless_key(s): s for s in titles["generational"]}
        self.address_only = {dotless_key(t) for t in titles["address_only"]}
        mac = load_json("name_mac_surnames.json")["surnames"]
        self.mac_surnames = frozenset(name.casefold() for name in mac)

        credentials = load_json("name_credentials.json")
        ambiguous = credentials.pop("ambiguous")
        self.credentials = {dotless_key(c) for group in credentials.values() for c in group}
        # Also common names ("Ma", "Do"): trusted only where the writing shows a credential.
        self.ambiguous_credentials = {dotless_key(c) for c in ambiguous}
        # Longest credential in words ("LEED AP BD+C"): how far back a match may reach.
        longest = max(len(c.split()) for g in credentials.values() for c in g)
        self.credential_words = max(longest, _MAX_DOTTED_WORDS)
        # Every ending of a credential's key: the key of words ending in a token ends with that
        # token's key, so a token whose key is none of these ends no credential.
        self.credential_endings = frozenset(
            key[start:]
            for key in self.credentials | self.ambiguous_credentials
            for start in range(len(key) + 1)
        )

        jobs = load_json("name_job_titles.json")
        self.job_titles = {phrase_key(t) for t in jobs["titles"]}
        # Longest first, so "assistant to the" wins over "assistant".
        self.job_modifiers = sorted((phrase_key(m) for m in jobs["modifiers"]), key=len)[::-1]
        # The same, by first word: a key can only start with modifiers of its own first word.
        self.job_modifiers_by_word: dict[str, list[str]] = {}
        for modifier in self.job_modifiers:
            first_word = modifier.split(" ", 1)[0]
            self.job_modifiers_by_word.setdefault(first_word, []).append(modifier)
        self.job_heads = {phrase_key(h) for h in jobs["heads"]}

        companies = load_json("name_company_words.json")
        self.legal_forms = {dotless_key(f) for f in companies["legal_forms"]}
        self.company_words = {phrase_key(w) for w in companies["words"]}

        surnames = load_json("name_east_asian_surnames.json")["surnames"]
        self.east_asian_surnames = {s.casefold() for s in surnames}

    def is_credential(self, words: list[str], *, trusted: bool) -> bool:
        """Whether ``words`` spell one credential; ``trusted``: the context says credentials
        (after a comma, or capitals in mixed-case text), so ambiguous ones count too."""
        key = dotless_key(" ".join(words))
        if key in self.credentials:
            return True
        if key not in self.ambiguous_credentials:
            return False
        return trusted or all("." in word for word in words)

    def lone_name(self, word: str) -> bool:
        """Whether ``word``, the whole value, is a name though a title list holds it: nameparser's
        long list ("King", "Pope", "English") or ours where the title is a word of four letters
        or more ("Bishop", "Pastor", "Lord": surnames, as a Last Name column holds them) and not
        only a form of address ("Miss", "Herr"); "Dr", "Prof." and "Sir" stay titles."""
        key = dotless_key(word)
        title = self.titles.get(key)
        if title is None:
            return word.isalpha()
        return (
            word.isalpha() and len(word) >= 4 and "." not in title and key not in self.address_only
        )

    def spaced_initials(self, text: str) -> str:
        """ "J.R.R. Tolkien" -> "J. R. R. Tolkien"; "Sig.ra Rossi" stays."""
        return self._initials.sub(lambda m: m[0] if len(m[0]) > 1 else ". ", text)

    def may_end_credential(self, token: str) -> bool:
        """False when no credential ends with the word ``token`` (most names: a quick no)."""
        return dotless_key(token) in self.credential_endings

    def is_job_title(self, text: str, *, after_name: bool) -> bool:
        """Whether ``text`` is a job title. ``after_name``: it follows a name after a comma or
        dash, where a title's last word is enough ("Regional Sales Director"); standing first it
        must be a listed title, since "Tom Cook" or "Adam Driver" is a person."""
        key = phrase_key(text)
        if not key:
            return False
        if self._without_modifiers(key) in self.job_titles:
            return True
        head, of, _ = key.partition(" of ")
        head = self._without_modifiers(head)
        if of and (head in self.job_titles or head in self.job_heads):
            return True  # "VP of Sales", "Head of Marketing", "Director of Engineering"
        return after_name and key.rsplit(" ", 1)[-1] in self.job_heads

    def _without_modifiers(self, key: str) -> str:
        changed = True
        while changed:
            changed = False
            for modifier in self.job_modifiers_by_word.get(key.split(" ", 1)[0], ()):
                if key.startswith(modifier + " "):
                    key, changed = key[len(modifier) + 1 :], True
                    break
        return key

    def is_company(self, words: list[str]) -> bool:
        """A company word anywhere, or a legal form ending the name ("Acme LLC", "Acme,
        Inc."). Elsewhere a legal form is a name: "Blas Company Almansa", "Co Nguyen"."""
        if not self.company_words.isdisjoint(map(phrase_key, words)):
            return True
        return len(words) > 1 and dotless_key(words[-1]) in self.legal_forms


@cache
def name_words() -> NameWords:
    """The lists, read on first use (not at import: a job that has no name column skips it)."""
    return NameWords()
