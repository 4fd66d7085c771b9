"""The parity gate's values, and its long run: every compiled backend against its reference.

``values(kind, count, seed)`` generates what a user's column may hold for a field type that has a
compiled port (``nbjobs.normalization.backends``): Faker data of many locales, and messy variants
of it (case, spacing, punctuation, extensions, letter typos, labels, lists, truncation, garbage).
``differences(kind, values)`` runs nbjobs' field with the compiled backend and with the reference
library and returns every value whose result differs (value, components, reason or repairs).

tests/normalization/test_backend_parity.py runs 50,000 values per type in the test command; this
script runs as many as asked and reports the speed of both:

    .venv/bin/python benchmarks/parity.py --count 500000
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterator

from faker import Faker

from nbjobs.normalization import backends
from nbjobs.normalization.fields import FieldResult, address, phone

PHONE_LOCALES = (
    "en_US", "en_GB", "en_CA", "en_AU", "en_IN", "de_DE", "fr_FR", "es_ES", "es_MX", "it_IT",
    "pt_BR", "nl_NL", "pl_PL", "sv_SE", "ja_JP", "zh_CN", "ru_RU", "tr_TR",
)  # fmt: skip
# The address field reads US addresses; other locales' addresses are what a column may hold too.
ADDRESS_LOCALES = (
    "en_US", "en_US", "en_US", "en_US", "en_US", "en_US", "en_CA", "en_GB", "en_AU", "de_DE",
    "fr_FR", "es_ES", "it_IT", "nl_NL",
)  # fmt: skip
# Options that change a field's answers: each value is compared under each.
OPTIONS: dict[str, list[dict[str, str]]] = {
    "phone": [{"default_region": "US"}, {"default_region": "GB"}, {"default_region": "DE"}],
    "address": [{}],
}
FIELDS = {"phone": phone, "address": address}

_GARBAGE = "abcdefghijklmnopqrstuvwxyz0123456789 -.,#/()+&'@"


def _garbage(rng: random.Random) -> str:
    return "".join(rng.choice(_GARBAGE) for _ in range(rng.randint(1, 30))).strip() or "x"


def _phone_variant(value: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.25:
        return value
    if roll < 0.33:
        return value.replace("-", " ").replace(".", " ")
    if roll < 0.40:
        return "".join(c for c in value if c.isdigit() or c == "+")
    if roll < 0.47:
        return (
            value + rng.choice([" ext. ", " x", " #", " ext", ";ext="]) + str(rng.randint(1, 9999))
        )
    if roll < 0.53:
        return "00" + value.lstrip("+") if value.startswith("+") else "+" + value
    if roll < 0.60:  # letters typed for digits
        digits = [i for i, c in enumerate(value) if c in "01"]
        chars = list(value)
        for i in rng.sample(digits, min(len(digits), rng.randint(1, 3))):
            chars[i] = rng.choice("Oo" if chars[i] == "0" else "lI")
        return "".join(chars)
    if roll < 0.65:
        return value + rng.choice([" (mobile)", " (Work)", " (h)", " (Büro)"])
    if roll < 0.70:
        return f"{value} / {value[:-1]}{rng.randint(0, 9)}"
    if roll < 0.76:
        return value[: rng.randint(1, max(1, len(value) - 1))]
    if roll < 0.81:
        cut = rng.randrange(len(value))
        return value[:cut] + str(rng.randint(0, 9)) + value[cut:]
    if roll < 0.86:
        return f"({value[:3]}) {value[3:]}"
    if roll < 0.90:
        return rng.choice(
            ["1-800-FLOWERS", "555-0123", "123-456-7890", "0000000", "+800 1234 5678"]
        )
    return _garbage(rng)


def _address_variant(value: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.30:
        return value.replace("\n", ", ")
    if roll < 0.40:
        return value  # line breaks kept
    if roll < 0.50:
        return value.replace("\n", " ").upper()
    if roll < 0.57:
        return value.replace("\n", " ").replace(",", "").lower()
    if roll < 0.63:
        return "  ".join(value.split())
    if roll < 0.69:
        words = value.replace("\n", ", ").split(" ")
        i = rng.randrange(len(words))
        if len(words[i]) > 2:
            j = rng.randrange(len(words[i]) - 1)
            word = words[i]
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]  # swapped letters
        return " ".join(words)
    if roll < 0.75:
        street = value.split("\n")[0]
        return f"{street} {rng.choice(['Apt', '#', 'Suite', 'Unit', 'Ste.'])} {rng.randint(1, 999)}"
    if roll < 0.80:
        box, zip3 = rng.randint(1, 999), rng.randint(100, 999)
        return rng.choice(
            [
                f"PO Box {box}, Springfield, IL {rng.randint(10000, 99999)}",
                f"P.O. BOX {box} Austin TX",
                f"PSC {rng.randint(100, 999)} Box {box % 100} APO AE 09{zip3}",
                f"Unit {rng.randint(1000, 9999)} Box {box}, DPO AP 96{zip3}",
            ]
        )
    if roll < 0.85:
        street = value.split("\n")[0].split(" ", 1)[-1]
        return f"{street} & {rng.choice(['Main St', '2nd Ave', 'Oak Blvd'])}"
    if roll < 0.90:
        return value.split("\n")[0]
    if roll < 0.95:
        return value[: rng.randint(1, len(value))].replace("\n", " ")
    return _garbage(rng)


_FAKERS: dict[str, Callable[[Faker], str]] = {
    "phone": lambda fake: fake.phone_number(),
    "address": lambda fake: fake.address(),
}
_VARIANTS = {"phone": _phone_variant, "address": _address_variant}
_LOCALES = {"phone": PHONE_LOCALES, "address": ADDRESS_LOCALES}


def values(kind: str, count: int, seed: int = 0) -> list[str]:
    """``count`` values for field type ``kind``: Faker data of every locale in turn, messy
    variants of most of them; the same list for the same arguments."""
    rng = random.Random(seed)
    fakers = []
    for locale in _LOCALES[kind]:
        fake = Faker(locale)
        fake.seed_instance(seed)
        fakers.append(fake)
    make, variant = _FAKERS[kind], _VARIANTS[kind]
    out = []
    for i in range(count):
        text = variant(make(fakers[i % len(fakers)]), rng).strip()
        out.append(text or "x")
    return out


def results(kind: str, texts: list[str], options: dict[str, str]) -> list[FieldResult]:
    """nbjobs' results for ``texts``, with the backend ``backends.use`` chose last."""
    return FIELDS[kind].normalize_values(texts, options)


def _run(kind: str, texts: list[str], choice: backends.Choice) -> tuple[list[list[object]], float]:
    backends.use(choice)
    started = time.perf_counter()
    out: list[list[object]] = [list(results(kind, texts, options)) for options in OPTIONS[kind]]
    if kind == "phone":  # column detection's question too
        out.append([phone.looks_like_number(text, {}) for text in texts])
        out.append([phone.looks_like_number(text, {}, any_region=True) for text in texts])
    return out, time.perf_counter() - started


def differences(kind: str, texts: list[str]) -> Iterator[tuple[str, object, object]]:
    """(value, reference result, compiled result) wherever they differ."""
    reference, _ = _run(kind, texts, "reference")
    compiled, _ = _run(kind, texts, "auto")
    for ref_column, fast_column in zip(reference, compiled, strict=True):
        for text, ref, fast in zip(texts, ref_column, fast_column, strict=True):
            if ref != fast:
                yield text, ref, fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="values per field type")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    chosen = backends.use("auto")
    print("compiled:", ", ".join(str(b) for b in chosen.values() if b.compiled) or "none")
    for kind in FIELDS:
        started = time.perf_counter()
        texts = values(kind, args.count, args.seed)
        generated = time.perf_counter() - started
        # Distinct values: the engine parses each once.
        texts = list(dict.fromkeys(texts))
        reference, ref_seconds = _run(kind, texts, "reference")
        compiled, fast_seconds = _run(kind, texts, "auto")
        found = sum(
            ref != fast
            for ref_column, fast_column in zip(reference, compiled, strict=True)
            for ref, fast in zip(ref_column, fast_column, strict=True)
        )
        checks = len(texts) * len(reference)
        print(
            f"{kind}: {len(texts):,} distinct values ({generated:.1f} s to generate), {checks:,} "
            f"results compared, {found} differences; reference {ref_seconds:.2f} s, compiled "
            f"{fast_seconds:.2f} s ({ref_seconds / fast_seconds:.1f}x)"
        )


if __name__ == "__main__":
    main()
