"""A labelled benchmark for column type detection: (header, values, true type) triples.

Built by hand in code, not taken from the detector: realistic header spellings seen in CRM,
e-commerce and HR exports (several languages, camelCase, pandas' "Unnamed: 3", "col1"), each
with a value generator seeded by the column's index so the set is the same on every run. Values
carry noise: blanks, "N/A", stray garbage, mixed formats. Some headers mislead or mean nothing,
so only the values can tell; ``text`` columns are notes, ids, amounts and codes.
"""

from __future__ import annotations

import random
from collections.abc import Callable

FIRST = [
    "John",
    "Mary",
    "José",
    "Anne-Marie",
    "Wei",
    "Priya",
    "Liam",
    "Olivia",
    "Mohammed",
    "Sofia",
    "Hans",
    "Chloé",
    "Kenji",
    "Fatima",
    "Patrick",
    "Ngozi",
    "Lars",
    "Isabella",
    "Carlos",
    "Emma",
]
LAST = [
    "Smith",
    "García",
    "O'Brien",
    "McDonald",
    "van der Berg",
    "Nguyen",
    "Müller",
    "Kowalski",
    "Johnson",
    "Dupont",
    "Tanaka",
    "Okafor",
    "Rossi",
    "Lee",
    "Hernández",
    "Brown",
    "Schmidt",
]
CITIES = [
    "Springfield",
    "Boston",
    "Los Angeles",
    "San Francisco",
    "New York",
    "Chicago",
    "Austin",
    "Denver",
    "Seattle",
    "Portland",
    "Miami",
    "Atlanta",
    "Fort Worth",
    "St. Louis",
    "Madison",
    "Madrid",
    "Paris",
    "Berlin",
    "Lyon",
    "München",
    "Sevilla",
    "Toronto",
    "Phoenix",
    "Dallas",
    "Jacksonville",
    "Columbus",
    "Charlotte",
    "Nashville",
    "Salt Lake City",
    "Kansas City",
]
STATES = ["CA", "NY", "TX", "FL", "WA", "IL", "MA", "OR", "GA", "NC", "OH", "AZ", "CO", "NV", "MN"]
STATE_NAMES = [
    "California",
    "New York",
    "Texas",
    "Florida",
    "Washington",
    "Illinois",
    "Ohio",
    "Massachusetts",
    "Georgia",
    "Arizona",
    "Colorado",
    "Oregon",
    "Nevada",
    "Utah",
]
COUNTRIES = [
    "United States",
    "USA",
    "Germany",
    "France",
    "Spain",
    "Mexico",
    "Canada",
    "Japan",
    "United Kingdom",
    "UK",
    "Brazil",
    "India",
    "Italy",
    "Netherlands",
    "Nigeria",
]
COUNTRY_CODES = ["US", "GB", "FR", "DE", "ES", "MX", "JP", "BR", "NL", "SE", "NG", "CN", "AU", "PL"]
COMPANY_BASE = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Pied Piper",
    "Soylent",
    "Blue Sky",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tyrell",
]
COMPANY_TAIL = [
    "Inc",
    "LLC",
    "Ltd",
    "Corp.",
    "GmbH",
    "S.A.",
    "Holdings",
    "Technologies",
    "Group",
    "& Co",
    "Solutions",
    "Systems",
    "Partners LLP",
    "Consulting",
]
STREETS = [
    "Main St",
    "Oak Avenue",
    "Elm St.",
    "Maple Dr",
    "N 5th Street",
    "Sunset Blvd",
    "Park Ave",
    "Washington Street",
    "Cedar Ln",
    "Lakeview Rd",
]
WORDS = [
    "called",
    "customer",
    "wants",
    "follow",
    "up",
    "next",
    "week",
    "about",
    "the",
    "invoice",
    "pricing",
    "demo",
    "meeting",
    "left",
    "voicemail",
    "interested",
    "renewal",
    "contract",
]
DOMAINS = ["gmail.com", "yahoo.com", "example.org", "acme.co.uk", "hotmail.fr", "web.de", "corp.io"]

Gen = Callable[[random.Random], str]


def _person(r: random.Random) -> str:
    kind = r.random()
    first, last = r.choice(FIRST), r.choice(LAST)
    if kind < 0.1:
        return f"{r.choice(['Dr.', 'Mr', 'Ms.', 'Prof.'])} {first} {last}"
    if kind < 0.2:
        return f"{last}, {first}"
    if kind < 0.3:
        return f"{first} {r.choice('ABCDEJKM')}. {last}"
    if kind < 0.35:
        return f"{first} {last}, {r.choice(['MD', 'PhD', 'CPA', 'Jr.'])}"
    if kind < 0.45:
        return f"{first} {last}".upper()
    return f"{first} {last}"


def _phone(r: random.Random) -> str:
    a = r.choice([212, 415, 312, 617, 713, 305, 206, 303, 404, 503, 702, 602, 718, 646, 310])
    b, c = r.randint(201, 989), r.randint(1000, 9999)
    return r.choice(
        [
            f"({a}) {b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"+1 {a} {b} {c}",
            f"{a}{b}{c}",
            f"+44 20 7{r.randint(100, 999)} {r.randint(1000, 9999)}",
            f"{a}-{b}-{c} x{r.randint(10, 999)}",
            f"+49 30 {r.randint(1000000, 9999999)}",
        ]
    )


def _email(r: random.Random) -> str:
    first, last = r.choice(FIRST).lower(), r.choice(LAST).lower().replace(" ", "")
    return (
        r.choice(
            [f"{first}.{last}", f"{first[0]}{last}", f"{first}{r.randint(1, 99)}", f"{first}+news"]
        )
        + "@"
        + r.choice(DOMAINS)
    )


def _date(r: random.Random) -> str:
    y, m, d = r.randint(1950, 2024), r.randint(1, 12), r.randint(1, 28)
    return r.choice(
        [
            f"{y}-{m:02}-{d:02}",
            f"{m}/{d}/{y}",
            f"{d:02}.{m:02}.{y}",
            f"{['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun'][m % 6]} {d}, {y}",
            f"{y}/{m}/{d}",
        ]
    )


def _zip(r: random.Random) -> str:
    z = r.randint(1000, 99999)
    return r.choice([f"{z:05}", f"{z:05}", f"{z:05}-{r.randint(0, 9999):04}", str(z)])


def _address(r: random.Random) -> str:
    base = f"{r.randint(1, 9999)} {r.choice(STREETS)}"
    return r.choice(
        [
            base,
            f"{base} Apt {r.randint(1, 40)}",
            f"{base}, Suite {r.randint(100, 500)}",
            f"{base}, {r.choice(CITIES[:10])}, {r.choice(STATES)} {r.randint(10000, 99999)}",
            base.upper(),
        ]
    )


def _url(r: random.Random) -> str:
    name = r.choice(COMPANY_BASE).lower().replace(" ", "")
    return r.choice(
        [
            f"https://www.{name}.com",
            f"www.{name}.co.uk",
            f"http://{name}.io/about",
            f"{name}.org",
            f"https://shop.{name}.com/p?id={r.randint(1, 99)}",
        ]
    )


def _company(r: random.Random) -> str:
    return r.choice(
        [
            f"{r.choice(COMPANY_BASE)} {r.choice(COMPANY_TAIL)}",
            f"{r.choice(COMPANY_BASE).upper()} {r.choice(COMPANY_TAIL).upper()}",
            f"{r.choice(COMPANY_BASE)} {r.choice(COMPANY_TAIL)}",
        ]
    )


def _note(r: random.Random) -> str:
    return " ".join(r.choice(WORDS) for _ in range(r.randint(4, 12))).capitalize() + "."


def _id(r: random.Random) -> str:
    return str(r.randint(100000, 99999999))


def _code(r: random.Random) -> str:
    return f"{r.choice(['INV', 'SKU', 'ORD', 'A'])}-{r.randint(100, 99999)}"


def _amount(r: random.Random) -> str:
    return r.choice(
        [f"{r.uniform(1, 5000):.2f}", f"${r.uniform(1, 5000):,.2f}", str(r.randint(1, 900))]
    )


def _status(r: random.Random) -> str:
    return r.choice(["active", "inactive", "pending", "closed", "lead", "won", "lost"])


GENERATORS: dict[str, list[Gen]] = {
    "name": [_person],
    "phone": [_phone],
    "email": [_email],
    "date": [_date],
    "zip": [_zip],
    "address": [_address],
    "url": [_url],
    "company": [_company],
    "city": [lambda r: r.choice(CITIES)],
    "state": [lambda r: r.choice(STATES), lambda r: r.choice(STATE_NAMES + STATES)],
    "country": [lambda r: r.choice(COUNTRIES), lambda r: r.choice(COUNTRY_CODES)],
    "text": [_note, _id, _code, _amount, _status],
}

# (header, type, generator index within the type)
HEADERS: list[tuple[str, str, int]] = [
    ("Full Name", "name", 0),
    ("Contact", "name", 0),
    ("Nombre", "name", 0),
    ("name", "name", 0),
    ("Customer", "name", 0),
    ("Attendee", "name", 0),
    ("Nom complet", "name", 0),
    ("contactName", "name", 0),
    ("col1", "name", 0),
    ("Unnamed: 3", "name", 0),
    ("Phone", "phone", 0),
    ("mobile #", "phone", 0),
    ("Cell", "phone", 0),
    ("Tel", "phone", 0),
    ("Telefono", "phone", 0),
    ("Work Phone", "phone", 0),
    ("field_7", "phone", 0),
    ("Contact Number", "phone", 0),
    ("Handy", "phone", 0),
    ("Unnamed: 5", "phone", 0),
    ("Email", "email", 0),
    ("E-mail Address", "email", 0),
    ("correo", "email", 0),
    ("Courriel", "email", 0),
    ("col3", "email", 0),
    ("Contact", "email", 0),
    ("emailAddr", "email", 0),
    ("Notes", "email", 0),
    ("Website", "url", 0),
    ("Homepage", "url", 0),
    ("URL", "url", 0),
    ("web", "url", 0),
    ("Sitio web", "url", 0),
    ("field_2", "url", 0),
    ("Link", "url", 0),
    ("Company", "company", 0),
    ("Org", "company", 0),
    ("Employer", "company", 0),
    ("Empresa", "company", 0),
    ("Account Name", "company", 0),
    ("Firma", "company", 0),
    ("Unnamed: 1", "company", 0),
    ("Organisation", "company", 0),
    ("Name", "company", 0),
    ("DOB", "date", 0),
    ("Signup Date", "date", 0),
    ("Fecha", "date", 0),
    ("created_at", "date", 0),
    ("Date of birth", "date", 0),
    ("Datum", "date", 0),
    ("col9", "date", 0),
    ("Joined", "date", 0),
    ("Postal Code", "zip", 0),
    ("Zip", "zip", 0),
    ("ZIP Code", "zip", 0),
    ("PLZ", "zip", 0),
    ("Code postal", "zip", 0),
    ("zipcode", "zip", 0),
    ("Unnamed: 8", "zip", 0),
    ("Address", "address", 0),
    ("Street Address", "address", 0),
    ("Mailing Address", "address", 0),
    ("Dirección", "address", 0),
    ("Adresse", "address", 0),
    ("addr1", "address", 0),
    ("Location", "address", 0),
    ("col4", "address", 0),
    ("Billing Address", "address", 0),
    ("City", "city", 0),
    ("Town", "city", 0),
    ("Ciudad", "city", 0),
    ("Ville", "city", 0),
    ("Stadt", "city", 0),
    ("city_name", "city", 0),
    ("Unnamed: 6", "city", 0),
    ("State", "state", 0),
    ("Province/State", "state", 0),
    ("ST", "state", 0),
    ("Estado", "state", 1),
    ("state_code", "state", 0),
    ("Region", "state", 1),
    ("field_4", "state", 0),
    ("col5", "state", 1),
    ("Country", "country", 0),
    ("Country of residence", "country", 0),
    ("País", "country", 0),
    ("Pays", "country", 0),
    ("Land", "country", 1),
    ("Country Code", "country", 1),
    ("Nationality", "country", 0),
    ("col6", "country", 1),
    ("Unnamed: 2", "country", 0),
    ("Notes", "text", 0),
    ("Comments", "text", 0),
    ("Description", "text", 0),
    ("ID", "text", 1),
    ("Customer ID", "text", 1),
    ("Amount", "text", 3),
    ("Total", "text", 3),
    ("SKU", "text", 2),
    ("Invoice No", "text", 2),
    ("Status", "text", 4),
    ("Bemerkung", "text", 0),
    ("col8", "text", 0),
    ("field_9", "text", 1),
    ("Unnamed: 0", "text", 1),
    ("Importe", "text", 3),
    ("Ref", "text", 2),
    ("Comentarios", "text", 0),
    ("Stage", "text", 4),
    ("Price", "text", 3),
    ("uuid", "text", 1),
]

NOISE = ["", "", "N/A", "-", "  ", "unknown", "???", "#REF!"]


def labelled_columns() -> list[tuple[str, list[str], str]]:
    """Every labelled column as (header, values, true type); the same on every call."""
    columns = []
    for index, (header, kind, which) in enumerate(HEADERS):
        r = random.Random(index)
        gen = GENERATORS[kind][which]
        size = r.randint(20, 50)
        noise_rate = r.choice([0.0, 0.05, 0.1, 0.2])
        values = [r.choice(NOISE) if r.random() < noise_rate else gen(r) for _ in range(size)]
        columns.append((header, values, kind))
    return columns
