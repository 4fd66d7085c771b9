"""Messy, reproducible contact lists for the benchmarks.

``write_contacts``: name, phone, email (typed) and an untyped note, for ``bench_server.py`` and
``bench_worker.py``. ``write_typed_contacts``: six typed columns (name, phone, email, address,
date, country) streamed row by row, for ``bench_million.py``; run this file to write one::

    .venv/bin/python benchmarks/contacts.py --rows 10000000 --distinct 0.01 --out big.csv

The first list:

Each typed column draws its rows (with replacement) from a pool of ``distinct * rows`` different
spellings: with the default 0.2, 19.9% of the values of a column are distinct, as in a real
export where the same people recur (with 1.0, about 63% are). About 3% of the cells of each
typed column are blank, and a few percent of the pool is garbage (unparseable phones, broken
addresses, names with digits).
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Callable
from pathlib import Path


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    "james mary john patricia robert jennifer michael linda william elizabeth david barbara "
    "richard susan joseph jessica thomas sarah charles karen christopher nancy daniel lisa "
    "matthew betty anthony margaret mark sandra donald ashley steven kimberly paul emily andrew "
    "donna joshua michelle kenneth carol kevin amanda brian melissa george deborah maría josé "
    "zoë françois kenji wei li anne-marie jean-luc o'neil siobhan"
)
LAST = _words(
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez "
    "gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white "
    "harris sanchez clark ramirez lewis robinson walker young allen king wright scott torres "
    "nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter roberts "
    "o'brien mcdonald macarthur van-der-berg de-la-cruz müller østergård"
)
TITLES = ("", "", "", "", "", "", "dr. ", "Mr ", "mrs. ", "Ms ", "Prof. ")
SUFFIXES = ("", "", "", "", "", "", "", "", " jr.", " III", ", PhD")
AREA_CODES = _words(
    "201 202 203 205 206 207 208 209 210 212 213 214 215 216 217 218 219 224 225 228 229 231 "
    "234 239 240 248 251 252 253 254 256 260 262 267 269 270 276 281 301 302 303 304 305 307 "
    "308 309 310 312 313 314 315 316 317 318 319 320 321 323 325 330 334 336 337 339 347 351 "
    "352 360 361 386 401 402 404 405 406 407 408 409 410 412 413 414 415 417 419 423 424 425"
)
DOMAINS = (
    "gmail.com",
    "Gmail.COM",
    "yahoo.com",
    "outlook.com",
    "example.org",
    "acme-corp.com",
    "mail.co.uk",
    "web.de",
    "uni-heidelberg.de",
    "bücher.de",
)
BAD_PHONES = ("12", "n/a", "555-CALL-NOW", "000", "tbd", "+1", "call me", "123456789012345678")


def _case(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.2:
        return text.upper()
    if roll < 0.5:
        return text.title()
    return text


def messy_name(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST).replace("-", " ")
    middle = f" {rng.choice('abcdefghjklmnprstw')}." if rng.random() < 0.25 else ""
    if rng.random() < 0.03:
        return f"{first} {last} {rng.randint(1, 99)}"  # invalid: digits
    if rng.random() < 0.02:
        return f"{first} & {rng.choice(FIRST)} {last}"  # invalid: two people
    if rng.random() < 0.15:
        person = f"{last}, {first}{middle}"
    else:
        person = f"{rng.choice(TITLES)}{first}{middle}  {last}{rng.choice(SUFFIXES)}"
    return _case(rng, person)


def messy_phone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.04:
        return rng.choice(BAD_PHONES) + ("" if rng.random() < 0.5 else str(rng.randint(0, 9)))
    if roll < 0.10:
        return f"+44 20 {rng.randint(7000, 8999)} {rng.randint(0, 9999):04d}"
    if roll < 0.13:
        return f"+49 30 {rng.randint(100000, 99999999)}"
    area, exchange, line = rng.choice(AREA_CODES), rng.randint(201, 999), rng.randint(0, 9999)
    fmt = rng.randrange(7)
    number = (
        f"({area}) {exchange}-{line:04d}",
        f"{area}-{exchange}-{line:04d}",
        f"{area}.{exchange}.{line:04d}",
        f"+1 {area} {exchange} {line:04d}",
        f"{area}{exchange}{line:04d}",
        f"1-{area}-{exchange}-{line:04d}",
        f" {area} {exchange} {line:04d} ",
    )[fmt]
    if rng.random() < 0.05:
        number += f" ext. {rng.randint(1, 999)}"
    return number


def messy_email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice(
        (f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{rng.randint(1, 99)}")
    )
    local = local.replace("'", "").replace(" ", "")
    domain = rng.choice(DOMAINS)
    roll = rng.random()
    if roll < 0.02:
        return f"{local}@"  # invalid
    if roll < 0.04:
        return f"{local} at {domain}"  # invalid
    if roll < 0.05:
        return f"{local}@@{domain}"  # invalid
    address = f"{local}{rng.randint(1, 9999)}@{domain}"
    return f" {_case(rng, address)} " if rng.random() < 0.1 else _case(rng, address)


def _pool(rng: random.Random, make: Callable[[random.Random], str], size: int) -> list[str]:
    values: dict[str, None] = {}
    attempts = 0
    while len(values) < size and attempts < size * 20:  # bounded, whatever the generator does
        values[make(rng)] = None
        attempts += 1
    return list(values)


def distinct_values(make: Callable[[random.Random], str], count: int, seed: int) -> list[str]:
    """``count`` distinct non-empty values of generator ``make``, in the order first drawn
    (the field benchmarks time each type on these)."""
    rng = random.Random(seed)
    values: dict[str, None] = {}
    while len(values) < count:
        value = make(rng)
        if value:
            values[value] = None
    return list(values)


def write_contacts(path: Path, rows: int, *, seed: int = 42, distinct: float = 0.2) -> Path:
    """Write ``rows`` rows to ``path`` (CSV, header Full Name,Phone,Email,Note)."""
    rng = random.Random(seed)
    size = max(1, int(rows * distinct))
    pools = [_pool(rng, make, size) for make in (messy_name, messy_phone, messy_email)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Full Name", "Phone", "Email", "Note"])
        for i in range(rows):
            typed = [rng.choice(pool) if rng.random() >= 0.03 else "" for pool in pools]
            writer.writerow([*typed, f"order {i}, batch {rng.randint(1, 50)}"])
    return path


COLUMNS = {"Full Name": "name", "Phone": "phone", "Email": "email"}


# -- six typed columns -------------------------------------------------------------------------

CREDENTIALS = ("MD", "M.D.", "PhD", "CPA", "CFP", "Esq.", "RN", "MBA", "P.E.", "MSc CSC ABS", "DDS")
PRONOUNS = ("(she/her)", "(he/him)", "(they/them)")
NICKNAMES = ("Bob", "Liz", "Bill", "Kate", "Mike", "Jim", "Sue", "Tony", "Chris", "Meg")
COUNTRY_CODES = ("+44", "+49", "+33", "+61", "+91", "+81", "+52", "+34", "+39", "+31", "+55")
STREETS = _words(
    "main oak maple pine cedar elm washington lake hill park sunset lincoln jackson church "
    "river highland forest madison jefferson franklin meadow spring ridge valley chestnut "
    "walnut willow cherry broadway center mill"
)
STREET_SUFFIXES = _words(
    "street st st. avenue ave ave. road rd boulevard blvd drive dr lane ln court ct place pl "
    "terrace ter parkway pkwy highway hwy circle cir way trail"
)
DIRECTIONS = ("", "", "", "", "n ", "s. ", "East ", "W ", "NE ", "southwest ")
UNITS = ("", "", "", "", "", " apt 4b", " Apt. 12", " suite 200", " ste 5", " #7", " unit C")
CITIES = (
    ("springfield", "il", "62704"),
    ("Austin", "TX", "78701"),
    ("new york", "NY", "10001"),
    ("Boston", "Massachusetts", "02108"),
    ("san francisco", "ca", "94103"),
    ("Portland", "OR", "97201"),
    ("Chicago", "Illinois", "60601"),
    ("miami", "fl", "33101"),
    ("Denver", "CO", "80202"),
    ("Hartford", "CT", "6103"),  # leading zero lost by a spreadsheet
    ("Seattle", "WA", "98101-1234"),
    ("saint paul", "MN", "55101"),
)
MONTHS = _words(
    "January February March April May June July August September October November December"
)
COUNTRY_SPELLINGS = (
    "USA", "United States", "US", "us", "U.S.A.", "America", "UK", "United Kingdom", "England",
    "Great Britain", "Germany", "Deutschland", "DE", "France", "FR", "Canada", "CA", "Mexico",
    "Russia", "Russian Federation", "Turkey", "Türkiye", "South Korea", "Japan", "JP", "India",
    "Brazil", "Holland", "the Netherlands", "NLD", "Spain", "Italy", "Ivory Coast", "Australia",
    "Atlantis", "n/a", "Europe",
)  # fmt: skip


def _mojibake(text: str) -> str:
    """Text as a Latin-1 reader shows its UTF-8 ("José" -> "JosÃ©"), which ftfy repairs."""
    return text.encode("utf-8").decode("latin-1")


def messy_full_name(rng: random.Random) -> str:
    """Names with credentials, pronouns, nicknames and mojibake on top of ``messy_name``."""
    name = messy_name(rng)
    roll = rng.random()
    if roll < 0.08:
        name += f", {rng.choice(CREDENTIALS)}"
    elif roll < 0.11:
        name += f" {rng.choice(PRONOUNS)}"
    elif roll < 0.16:
        first, _, rest = name.partition(" ")
        nick = rng.choice(NICKNAMES)
        name = f'{first} "{nick}" {rest}' if rng.random() < 0.5 else f"{first} ({nick}) {rest}"
    if rng.random() < 0.05 and not name.isascii():
        name = _mojibake(name)
    elif rng.random() < 0.01:
        name = "Acme Holdings LLC"  # invalid: a company
    return name


def messy_world_phone(rng: random.Random) -> str:
    """``messy_phone`` plus more countries, extensions and letter typos (O for 0, l for 1)."""
    roll = rng.random()
    if roll < 0.12:
        code = rng.choice(COUNTRY_CODES)
        number = f"{code} {rng.randint(10, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    else:
        number = messy_phone(rng)
    if rng.random() < 0.04:
        number = number.replace("0", "O", 1).replace("1", "l", 1)
    if rng.random() < 0.04:
        number += rng.choice((f" x{rng.randint(1, 99)}", f" ext {rng.randint(100, 999)}"))
    return number


def messy_address(rng: random.Random) -> str:
    city, state, zipcode = rng.choice(CITIES)
    roll = rng.random()
    if roll < 0.08:
        street = f"{rng.choice(('PO Box', 'P.O. BOX', 'po box'))} {rng.randint(1, 9999)}"
    elif roll < 0.11:
        street = f"{rng.choice(STREETS)} and {rng.choice(STREETS)}"  # invalid: no number
    else:
        street = (
            f"{rng.randint(1, 29999)} {rng.choice(DIRECTIONS)}{rng.choice(STREETS)} "
            f"{rng.choice(STREET_SUFFIXES)}{rng.choice(UNITS)}"
        )
    return _case(rng, f"{street}, {city}, {state} {zipcode}")


def messy_date(rng: random.Random) -> str:
    year, month, day = rng.randint(1940, 2025), rng.randint(1, 12), rng.randint(1, 28)
    roll = rng.random()
    if roll < 0.03:
        return rng.choice(("March 2024", "12/05", "5pm", "soon", "2024-02-30"))  # invalid
    name = MONTHS[month - 1]
    return rng.choice(
        (
            f"{year}-{month:02d}-{day:02d}",
            f"{month}/{day}/{year}",
            f"{month:02d}/{day:02d}/{year % 100:02d}",
            f"{day} {name} {year}",
            f"{name[:3]} {day}, {year}",
            f"{year}{month:02d}{day:02d}",
            f"{year}-{month:02d}-{day:02d}T{rng.randint(0, 23):02d}:15:00Z",
        )
    )


def messy_country(rng: random.Random) -> str:
    spelling = rng.choice(COUNTRY_SPELLINGS)
    return f" {spelling.upper()} " if rng.random() < 0.1 else spelling


TYPED_COLUMNS = {
    "Full Name": "name",
    "Phone": "phone",
    "Email": "email",
    "Address": "address",
    "Birth Date": "date",
    "Country": "country",
}
_MAKERS: tuple[Callable[[random.Random], str], ...] = (
    messy_full_name,
    messy_world_phone,
    messy_email,
    messy_address,
    messy_date,
    messy_country,
)


class _Column:
    """Values of one column: a fresh value with probability ``distinct``, else one seen before.

    Only the values seen so far are kept (none when ``distinct`` is 1), so the memory is the
    distinct values, never the rows.
    """

    def __init__(self, make: Callable[[random.Random], str], distinct: float) -> None:
        self.make = make
        self.distinct = distinct
        self.seen: list[str] = []

    def next(self, rng: random.Random) -> str:
        if rng.random() < 0.03:
            return ""
        if not self.seen or rng.random() < self.distinct:
            value = self.make(rng)
            if self.distinct < 1:
                self.seen.append(value)
            return value
        return rng.choice(self.seen)


def write_typed_contacts(path: Path, rows: int, *, seed: int = 42, distinct: float = 0.1) -> Path:
    """Stream ``rows`` rows of the six ``TYPED_COLUMNS`` plus an untyped ``Note`` to ``path``.

    ``distinct``: the share of a column's values drawn fresh (the rest repeat earlier ones);
    fresh values can still collide (a short country column has a few dozen spellings), so
    the measured share of distinct values is at most this.
    """
    rng = random.Random(seed)
    columns = [_Column(make, distinct) for make in _MAKERS]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*TYPED_COLUMNS, "Note"])
        batch: list[list[str]] = []
        for i in range(rows):
            batch.append([*(column.next(rng) for column in columns), f"order {i}"])
            if len(batch) == 10_000:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)
    return path


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The data options every benchmark shares: ``--rows``, ``--seed``, ``--distinct``."""
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--distinct",
        type=float,
        default=0.2,
        help="pool of spellings per typed column, as a fraction of rows (default 0.2)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the six-column messy contacts CSV.")
    add_data_arguments(parser)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_typed_contacts(args.out, args.rows, seed=args.seed, distinct=args.distinct)


if __name__ == "__main__":
    main()
