"""A messy, reproducible contact list for the benchmarks: name, phone, email (typed) and note.

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
