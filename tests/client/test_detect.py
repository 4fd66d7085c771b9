"""Column detection and combinations from the notebook API and the CLI, against a real server."""

from __future__ import annotations

import argparse
import json
import shlex

import pandas as pd
import pytest

import nbjobs
from nbjobs.client.cli import _column, build_parser, column_arguments
from nbjobs.exceptions import SpecError

from .test_cli import finish, nbjobs_cli

FRAME = pd.DataFrame(
    {
        "First Name": ["ann", "Bob", "Carla", "Dee", "Eve"],
        "Last Name": ["lee", "Smith", "Ruiz", "Park", "O'Brien"],
        "Area Code": ["415", "212", "202", "617", "312"],
        "Phone Number": ["555-2671", "555-7788", "456-1111", "555-3344", "555 9000"],
        "Email": ["Ann@Example.com", "bob@example.com", "c@example.org", "d@x.net", "e@x.com"],
        "Note": ["vip", "", "call back", "", "new"],
    }
)
NAME = {"type": "name", "from": ["First Name", "Last Name"]}
PHONE = {"type": "phone", "from": ["Area Code", "Phone Number"]}


def test_detect_a_dataframe_then_normalize_with_the_suggestions(conn):
    found = nbjobs.detect(FRAME)
    assert isinstance(found, nbjobs.Detected) and found.input_name == "DataFrame"
    assert found.types["Email"] == "email" and found.types["Note"] == "text"
    assert [s["name"] for s in found.suggestions] == ["Name", "Phone"]
    assert found.spec(accept=True) == {"Name": NAME, "Phone": PHONE, "Email": "email"}
    declined = found.spec(accept=False)
    assert "Name" not in declined and declined["Email"] == "email"
    assert found.spec(accept=["Phone"])["Phone"] == PHONE
    assert "Name" not in found.spec(accept=["Phone"])
    text = repr(found)
    assert "Name (name) = First Name + Last Name" in text and "[part of Phone]" in text
    assert "'ann lee' -> 'Ann Lee' (valid)" in text
    assert "<b>Name</b> (name) = First Name + Last Name" in found._repr_html_()

    job = nbjobs.normalize(FRAME, columns=found.spec(), display=False)
    assert job.info["columns"] == {"Name": NAME, "Phone": PHONE, "Email": "email"}
    result = job.result(timeout=60)
    assert list(result["Name_normalized"][:2]) == ["Ann Lee", "Bob Smith"]
    assert list(result["Phone_normalized"][:2]) == ["+14155552671", "+12125557788"]
    assert result["_valid"].all()


def test_a_bad_combination_is_refused_with_the_columns_listed(conn):
    with pytest.raises(SpecError, match='Column "Middle" \\(in "from" of "Name"\\)'):
        nbjobs.normalize(
            FRAME, {"Name": {"type": "name", "from": ["First Name", "Middle"]}}, display=False
        )


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("Phone=phone", ("Phone", "phone")),
        ("a=b=name", ("a=b", "name")),
        (
            "Name=name:First+Middle+Last",
            ("Name", {"type": "name", "from": ["First", "Middle", "Last"]}),
        ),
        ("Full=Name=name:First+Last", ("Full=Name", {"type": "name", "from": ["First", "Last"]})),
        ("Name=name:First+Mid=dle", ("Name", {"type": "name", "from": ["First", "Mid=dle"]})),
        ("Tel=phone:Tel No", ("Tel", {"type": "phone", "from": ["Tel No"]})),
    ],
)
def test_column_argument(argument, expected):
    assert _column(argument) == expected


@pytest.mark.parametrize("argument", ["Phone", "=phone", "Phone=", "Name=name:First++Last"])
def test_bad_column_argument(argument):
    with pytest.raises(argparse.ArgumentTypeError):
        _column(argument)


def test_column_arguments_parse_back_to_the_spec():
    spec = {"Full=Name": NAME, "Phone": PHONE, "E=mail": "email"}
    args = column_arguments(spec)
    assert args[:2] == ["-c", "Full=Name=name:First Name+Last Name"]
    assert dict(_column(arg) for arg in args[1::2]) == spec


def test_parser_collects_combinations():
    args = build_parser().parse_args(
        ["normalize", "in.csv", "-c", "Name=name:First+Last", "-c", "Email=email"]
    )
    assert dict(args.columns) == {
        "Name": {"type": "name", "from": ["First", "Last"]},
        "Email": "email",
    }


def test_cli_detect_prints_the_command_that_accepts_the_suggestions(server, tmp_path):
    FRAME.to_csv(tmp_path / "people.csv", index=False)
    code, out, err = finish(nbjobs_cli("detect", "people.csv", server=server, cwd=tmp_path))
    assert code == 0, err
    assert (
        "Detected columns of people.csv:" in out and "Name (name) = First Name + Last Name" in out
    )
    accept = out.split("To accept the suggestions:\n", 1)[1].splitlines()[0].strip()
    assert accept == (
        "nbjobs normalize people.csv -c 'Name=name:First Name+Last Name' "
        "-c 'Phone=phone:Area Code+Phone Number' -c Email=email"
    )
    code, out, err = finish(
        nbjobs_cli(*shlex.split(accept)[1:], "-o", "out.csv", server=server, cwd=tmp_path)
    )
    assert code == 0, err
    output = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert list(output["Name"][:2]) == ["ann lee", "Bob Smith"]
    assert list(output["Phone_normalized"][:2]) == ["+14155552671", "+12125557788"]

    code, out, err = finish(
        nbjobs_cli("detect", "people.csv", "--json", server=server, cwd=tmp_path)
    )
    assert code == 0, err
    assert json.loads(out)["suggestions"][0]["from"] == ["First Name", "Last Name"]
