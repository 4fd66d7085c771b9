"""Suggested combinations of fragmented columns, from headers and values, on hand-made tables."""

from __future__ import annotations

import pandas as pd

from nbjobs.normalization import FIELD_TYPES, normalize_chunk
from nbjobs.normalization.mapping import detection_report, suggest_combinations

FIRST = ["Ann", "Bob", "Carla", "Dmitri", "Eve", "Farid"]
LAST = ["Lee", "Smith", "Ruiz", "Ivanov", "O'Brien", "Haddad"]


def suggestions(frame: pd.DataFrame) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(s.name, s.type, s.sources) for s in suggest_combinations(frame)]


def test_name_address_and_phone_parts_are_suggested_in_input_order():
    frame = pd.DataFrame(
        {
            "ID": [str(i) for i in range(6)],
            "Area Code": ["415", "212", "202", "617", "(312)", "305"],
            "Phone Number": ["555-2671", "555-7788", "456-1111", "555-3344", "555 9000", "5551234"],
            "Ext": ["12", "", "", "7", "", "x300"],
            "first_name": FIRST,
            "MiddleName": ["", "J", "Maria", "", "", "A."],
            "last_name": LAST,
            "Street No": ["12", "7", "1600", "9", "221B", "31"],
            "Street Name": [
                "Main St",
                "Oak Ave",
                "Pennsylvania Ave NW",
                "Elm St",
                "Baker St",
                "1st St",
            ],
            "Apt": ["4B", "", "", "Suite 2", "", "Apt 3"],
        }
    )
    found = suggest_combinations(frame)
    assert [(s.name, s.type, s.sources) for s in found] == [
        ("Phone", "phone", ("Area Code", "Phone Number", "Ext")),
        ("Name", "name", ("first_name", "MiddleName", "last_name")),
        ("Address", "address", ("Street No", "Street Name", "Apt")),
    ]
    assert all(0.6 <= s.confidence <= 1 for s in found)
    phone, name, _ = found
    assert [r.combined for r in phone.preview] == [
        "415 555-2671 ext. 12", "212 555-7788", "202 456-1111",
    ]  # fmt: skip
    assert [r.normalized for r in phone.preview] == ["+14155552671", "+12125557788", "+12024561111"]
    assert name.preview[1].parts == ("Bob", "J", "Smith")
    assert (name.preview[1].combined, name.preview[1].valid) == ("Bob J Smith", True)
    assert len(name.preview) == 3
    assert found == suggest_combinations(frame)  # deterministic


def test_words_before_the_part_tell_groups_apart_and_names_avoid_existing_columns():
    frame = pd.DataFrame(
        {
            "Name": ["x"] * 6,
            "Billing First Name": FIRST,
            "Billing Last Name": LAST,
            "Shipping First Name": FIRST[::-1],
            "Shipping Last Name": LAST[::-1],
            "Full Name": ["y"] * 6,
        }
    )
    assert suggestions(frame) == [
        ("Billing Name", "name", ("Billing First Name", "Billing Last Name")),
        ("Shipping Name", "name", ("Shipping First Name", "Shipping Last Name")),
    ]
    plain = pd.DataFrame({"Name": ["x"] * 6, "Full Name": ["y"] * 6, "Vorname": FIRST,
                          "Nachname": LAST})  # fmt: skip
    assert suggestions(plain) == [("Name 2", "name", ("Vorname", "Nachname"))]


def test_phone_number_with_an_extension_column():
    frame = pd.DataFrame(
        {
            "Phone": ["(415) 555-2671", "212-555-7788", "+1 202 456 1111"],
            "Phone Ext": ["12", "", "4401"],
        }
    )
    (found,) = suggest_combinations(frame)
    assert (found.name, found.sources) == ("Phone Number", ("Phone", "Phone Ext"))
    assert found.preview[0].combined == "(415) 555-2671 ext. 12"


def test_headers_that_only_start_with_a_part_name_are_not_parts():
    frame = pd.DataFrame(
        {
            "First Class": ["Yes", "No", "Yes", "No", "Yes", "No"],
            "Last Login": ["2024-01-02", "2024-02-03", "2023-05-06", "2022-01-01", "", ""],
            "Number Of Orders": ["3", "1", "0", "12", "5", "2"],
        }
    )
    assert suggestions(frame) == []


def test_values_must_fit_the_parts():
    # Headers say name parts, but "last" holds dates and "first" holds amounts.
    frame = pd.DataFrame(
        {
            "First": ["12.50", "3.00", "7.25", "1.00", "9.99", "0.50"],
            "Last": ["2024-01-02", "2024-02-03", "2023-05-06", "2022-01-01", "2021-01-01", "x"],
        }
    )
    assert suggestions(frame) == []
    # A "Title" column of job titles is not a name prefix: it is left out, the name stays.
    titled = pd.DataFrame(
        {"Title": ["CEO", "Engineer", "Manager", "VP Sales", "Analyst", "Intern"],
         "First Name": FIRST, "Last Name": LAST}
    )  # fmt: skip
    assert suggestions(titled) == [("Name", "name", ("First Name", "Last Name"))]
    honorific = titled.assign(Title=["Dr.", "Mr", "Ms.", "Mrs", "Prof.", "Mr."])
    assert suggestions(honorific)[0][2] == ("Title", "First Name", "Last Name")


def test_a_lone_part_or_invalid_combinations_give_nothing():
    assert suggestions(pd.DataFrame({"First Name": FIRST, "Email": ["a@b.co"] * 6})) == []
    # Area code + number whose combinations are no phone numbers at all.
    bad = pd.DataFrame(
        {
            "Area Code": ["1", "2", "3", "4", "5", "6"],
            "Phone Number": ["11111", "22222", "33333", "44444", "55555", "66666"],
        }
    )
    assert suggestions(bad) == []


def test_address_lines_one_and_two_make_an_address():
    # As CRMs and shops export an address: the street line whole, the unit on a line of its own.
    frame = pd.DataFrame(
        {
            "Billing Address Line 1": ["12 Main St", "7 Oak Ave", "1600 Pennsylvania Ave NW"] * 2,
            "Billing Address Line 2": ["Apt 4B", "", "Suite 200"] * 2,
            "Billing City": ["Springfield", "Austin", "Washington"] * 2,
        }
    )
    assert suggestions(frame) == [
        ("Billing Address", "address", ("Billing Address Line 1", "Billing Address Line 2"))
    ]
    (found,) = suggest_combinations(frame)
    assert [row.normalized for row in found.preview] == [
        "12 Main St Apt 4B",
        "7 Oak Ave",
        "1600 Pennsylvania Ave NW Ste 200",
    ]


def test_area_code_and_number_make_a_phone_though_the_numbers_are_invalid():
    # Unassigned area codes (as random test data has them): invalid numbers, still phones; the
    # preview says which are valid.
    frame = pd.DataFrame(
        {
            "Area Code": ["911", "211", "999", "415", "370", "101"],
            "Phone Number": [
                "555-2671",
                "484-2200",
                "246-8135",
                "555-2671",
                "555-0143",
                "555-7788",
            ],
        }
    )
    (found,) = suggest_combinations(frame)
    assert found.sources == ("Area Code", "Phone Number")
    assert [row.valid for row in found.preview] == [False, False, False]


def test_accepted_suggestion_normalizes_as_previewed():
    frame = pd.DataFrame({"Given Name": FIRST, "Surname": LAST, "Email": ["a@b.co"] * 6})
    (found,) = suggest_combinations(frame)
    out = normalize_chunk(frame, {found.name: found.spec_entry()}).frame
    assert list(out[f"{found.name}_normalized"][:3]) == [r.normalized for r in found.preview]


def test_detection_report_marks_consumed_columns():
    frame = pd.DataFrame({"First Name": FIRST, "Last Name": LAST, "Email": ["a@b.co"] * 6})
    report = detection_report(frame)
    assert [c["name"] for c in report["columns"]] == ["First Name", "Last Name", "Email"]
    assert [c["partOf"] for c in report["columns"]] == ["Name", "Name", None]
    assert report["columns"][2]["type"] == "email"
    assert report["suggestions"][0]["from"] == ["First Name", "Last Name"]
    assert set(report["suggestions"][0]) == {"name", "type", "from", "confidence", "preview"}
    assert set(report["suggestions"][0]["preview"][0]) == {
        "parts",
        "combined",
        "normalized",
        "valid",
    }
    assert report["fields"] == list(FIELD_TYPES)
