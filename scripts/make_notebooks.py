# ruff: noqa: E501 - the cell sources are notebook text, wrapped for a notebook, not for ruff
"""Write the demo notebooks in ``notebooks/`` from the cell sources below.

    .venv/bin/python scripts/make_notebooks.py          # rewrite every notebook
    .venv/bin/python scripts/make_notebooks.py --check  # exit 1 if a notebook is out of date

The notebooks are generated so that a review reads Python, not JSON. Outputs are stripped except
on the cells marked ``# NBVAL_CHECK_OUTPUT``: their expected output is stored here, and
``pytest --nbval-lax notebooks`` compares it with what the cell prints. Checked cells print only
what is stable from run to run (counts, statuses), never job ids or times.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat import NotebookNode

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CHECK = "# NBVAL_CHECK_OUTPUT\n"


def md(text: str) -> NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip())


def code(source: str) -> NotebookNode:
    return nbformat.v4.new_code_cell(source.strip())


def checked(source: str, stdout: str) -> NotebookNode:
    """A cell whose printed output nbval compares with ``stdout``."""
    # nbval skips the comparison ("unrun reference cell") without an execution count.
    cell = nbformat.v4.new_code_cell(CHECK + source.strip(), execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stdout)]
    return cell


def notebook(name: str, cells: list[NotebookNode]) -> NotebookNode:
    nb = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
    )
    # Stable ids: regenerating an unchanged notebook must not change its file.
    for index, cell in enumerate(nb.cells):
        cell.id = hashlib.sha1(f"{name}:{index}".encode()).hexdigest()[:8]
    return nb


# -- quickstart.ipynb ------------------------------------------------------------------------
# The browser test (tests/browser) runs its first cells by position: keep the order.

QUICKSTART_DATA = """
import random

import pandas as pd

import nbjobs

random.seed(7)
first = ["jane", "JOHN", "María José", "li", "o'brien", "Zoë", "mohammed", "anne-marie", "KENJI", "pat"]
last = ["doe", "SMITH", "garcía", "wei", "mcdonald", "van der berg", "al-sayed", "o'neil", "tanaka", "lee"]
titles = ["", "", "", "Dr. ", "mr ", "Ms. "]
# Mostly fixable formats, with the occasional value no normalizer can save.
phones = ["(415) 555-{:04d}", "415.555.{:04d}", "+1 415 555 {:04d}", "+44 20 7946 {:04d}", "555-{:04d}", "n/a"]
phone_weights = [40, 25, 15, 12, 5, 3]
domains = ["Example.COM", "mail.example.org", "example.co.uk", "bad..domain", ""]
domain_weights = [45, 30, 17, 5, 3]


def person(i: int) -> dict:
    f, l = random.choice(first), random.choice(last)
    domain = random.choices(domains, domain_weights)[0]
    return {
        "Full Name": f"{random.choice(titles)}{f}   {l}",
        "Phone": random.choices(phones, phone_weights)[0].format(random.randrange(10000)),
        "Email": f"{f.split()[0].lower()}.{l.split()[-1].lower()}@{domain}" if domain else "",
        "Signed up": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
    }


contacts = pd.DataFrame([person(i) for i in range(5000)])
contacts.head()
"""


def quickstart() -> list[NotebookNode]:
    return [
        md("""
# nbjobs quickstart

Normalize a messy contact list **inside the Jupyter server**, not in this kernel. The cell that
submits the job returns at once; the progress bar below it fills live as each chunk of rows is
normalized, pushed over Socket.IO by the server.

When this notebook runs without a Jupyter server that has nbjobs (for example under `nbval`),
`nbjobs` starts a private one in the background and stops it when the kernel exits.
"""),
        code(QUICKSTART_DATA),
        md("""
Submit the job. The bar shows processed / total rows, valid and invalid counts, and a Live badge while the connection to the server is up.
"""),
        code("""
job = nbjobs.normalize(
    contacts,
    columns={"Full Name": "name", "Phone": "phone", "Email": "email", "Signed up": "text"},
    name="contacts",
)
"""),
        md("""
`job.result()` waits for the job and returns every row with its normalized columns, `_valid` and `_errors`.
"""),
        code("""
result = job.result()
result[["Full Name", "Full Name_normalized", "Phone", "Phone_normalized", "Email_normalized", "_valid"]].head(10)
"""),
        checked("print(len(result) == len(contacts), job.status)", "True completed\n"),
        md("The rows that did not normalize, with the reason codes:"),
        code("""
invalid = job.invalid_rows()
invalid[["Full Name", "Phone", "Email", "_errors"]].head(10)
"""),
        md("Every job of yours on this server, live: the table refreshes when job events arrive."),
        code("nbjobs.jobs()"),
    ]


# -- large_job.ipynb -------------------------------------------------------------------------

LARGE_DATA = """
import numpy as np
import pandas as pd

import nbjobs

ROWS = 200_000
rng = np.random.default_rng(2024)


def pick(values: list[str], weights: list[float] | None = None) -> pd.Series:
    \"\"\"ROWS random choices from values, as strings.\"\"\"
    p = None if weights is None else np.asarray(weights) / sum(weights)
    return pd.Series(rng.choice(np.array(values, dtype=object), ROWS, p=p))


def digits(low: int, high: int, width: int) -> pd.Series:
    return pd.Series(rng.integers(low, high, ROWS)).astype(str).str.zfill(width)


first = pick(["jane", "JOHN", "María José", "li", "o'brien", "Zoë", "mohammed", "anne-marie",
              "KENJI", "pat", "ngozi", "søren", "ROSA", "dmitri", "Aoife", "carlos"])
last = pick(["doe", "SMITH", "garcía", "wei", "mcdonald", "van der berg", "al-sayed", "o'neil",
             "tanaka", "lee", "okafor", "NIELSEN", "murphy", "ivanov", "kowalski", "nguyen"])
title = pick(["", "Dr. ", "mr ", "Ms. ", "Prof. "], [70, 8, 10, 10, 2])
suffix = pick(["", " jr", " III", ", PhD"], [88, 5, 3, 4])
spaces = pick([" ", "   ", "\\t"], [80, 15, 5])

# US numbers in the formats people type, some from abroad, some beyond repair.
area = pick(["212", "312", "415", "512", "617", "206", "303", "404"])
exchange, line = digits(200, 1000, 3), digits(0, 10_000, 4)
phone_formats = [
    "(" + area + ") " + exchange + "-" + line,
    area + "." + exchange + "." + line,
    "+1 " + area + " " + exchange + " " + line,
    "1-" + area + "-" + exchange + "-" + line,
    "+44 20 7946 " + digits(0, 1000, 4),
    exchange + "-" + line,  # no area code: invalid without a region that has 7-digit numbers
    pd.Series(["n/a"] * ROWS),
    pd.Series([""] * ROWS),  # empty: not an error, just nothing to normalize
]
kind = rng.choice(len(phone_formats), ROWS, p=[0.35, 0.2, 0.15, 0.1, 0.08, 0.05, 0.04, 0.03])
phone = pd.Series(np.choose(kind, [f.to_numpy(dtype=object) for f in phone_formats]))

domain = pick(["Example.COM", "mail.example.org", "example.co.uk", "bad..domain", "gmail"],
              [45, 30, 17, 4, 4])
email = first.str.split().str[0].str.lower() + "." + last.str.split().str[-1].str.lower() \\
    + digits(0, 100, 2) + "@" + domain

month, day = digits(1, 13, 2), digits(1, 29, 2)
messy = pd.DataFrame({
    "Full Name": title + first + spaces + last + suffix,
    "Phone": phone,
    "Email": email,
    "Signed up": np.choose(rng.choice(3, ROWS, p=[0.6, 0.3, 0.1]), [
        ("2024-" + month + "-" + day).to_numpy(dtype=object),  # ISO
        (month + "/" + day + "/2024").to_numpy(dtype=object),  # US
        pick(["n/a", "soon", "2024-13-45", "March"]).to_numpy(dtype=object),  # hopeless
    ]),
})
print(f"{len(messy):,} rows")
messy.sample(8, random_state=1)
"""


def large_job() -> list[NotebookNode]:
    return [
        md("""
# A large job: 200,000 messy rows

The DataFrame below is generated here (no download): 200,000 contacts with names in every
case and spacing, titles and suffixes, phones in the formats people type (some from abroad,
some beyond repair), emails with broken domains and sign-up dates in ISO or US order or neither.

The job runs in a worker process of the Jupyter server, one chunk of rows at a time
(`NbJobs.chunk_size`, 1,000 by default); after each chunk the server pushes the counts over
Socket.IO and the bar under the submitting cell moves. Meanwhile this kernel is free.
"""),
        code(LARGE_DATA),
        md("Submit it. The cell returns at once; watch the bar fill."),
        code("""
job = nbjobs.normalize(
    messy,
    columns={"Full Name": "name", "Phone": "phone", "Email": "email", "Signed up": "date"},
    name="200k messy contacts",
)
"""),
        md("The kernel is not busy while the server works: this cell runs at once."),
        code("job.status, f\"{job.info['processedRows'] or 0:,} of {len(messy):,} rows so far\""),
        md("`job.result()` waits for the end and downloads the normalized table (Parquet)."),
        code("""
result = job.result()
info = job.refresh().info  # events carry counts; the job as stored also has its times
seconds = (pd.Timestamp(info["finishedAt"]) - pd.Timestamp(info["startedAt"])).total_seconds()
rows = info["processedRows"]
print(f"{rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
"""),
        checked(
            """
print(len(result), job.status)
print(info["validRows"] + info["invalidRows"] == len(result) == len(messy))
""",
            "200000 completed\nTrue\n",
        ),
        md("""
Per typed column: how many values were empty, invalid, changed by normalization or already
clean, with the most frequent reasons and repairs.
"""),
        code("job.summary()"),
        md("What the normalized columns look like:"),
        code("""
result[["Full Name", "Full Name_normalized", "Phone", "Phone_normalized", "Phone_region",
        "Email_normalized", "Signed up_normalized", "_valid"]].sample(10, random_state=2)
"""),
        md("""
## The rows that did not normalize

Every row is kept in the output; `_valid` is False when a non-empty typed value could not be
normalized, and `_errors` says which column failed and why. `job.invalid_rows()` downloads
just those rows.
"""),
        code("""
invalid = job.invalid_rows()
reasons = invalid["_errors"].str.split("; ").explode().value_counts()
reasons.to_frame("rows")
"""),
        checked(
            """
print(len(invalid) == info["invalidRows"] == (~result["_valid"]).sum())
print(invalid["_errors"].str.len().gt(0).all())
""",
            "True\nTrue\n",
        ),
        md("One example of each reason:"),
        code("""
examples = invalid.assign(reason=invalid["_errors"].str.split("; ")).explode("reason")
examples.drop_duplicates("reason")[["reason", "Full Name", "Phone", "Email"]]
"""),
    ]


# -- jobs_table.ipynb ------------------------------------------------------------------------


def jobs_table() -> list[NotebookNode]:
    return [
        md("""
# The live jobs table

`nbjobs.jobs()` shows your latest jobs on this server (50 by default), newest first. It is
fed by the same Socket.IO events as the progress bars: a job submitted from any notebook, the
CLI or the REST API appears and moves in it without a refresh, and after a reconnect it
re-reads the list so that nothing missed stays wrong.
"""),
        code("""
import numpy as np
import pandas as pd

import nbjobs

rng = np.random.default_rng(11)


def contacts(rows: int) -> pd.DataFrame:
    people = ["jane DOE", "dr. john smith", "María  José García", "li wei", "pat o'brien"]
    names = pd.Series(rng.choice(people, rows))
    number = pd.Series(rng.integers(2_000_000, 10_000_000, rows)).astype(str)
    return pd.DataFrame({
        "Name": names,
        "Phone": "(415) " + number.str[:3] + "-" + number.str[3:],
        "Email": names.str.lower().str.split().str.join(".") + "@example.com",
    })


columns = {"Name": "name", "Phone": "phone", "Email": "email"}
small, big = contacts(2_000), contacts(150_000)
"""),
        md("The table, live. Keep an eye on it while the next cells run."),
        code("""
table = nbjobs.jobs()
table
"""),
        md("""
Two jobs: a small one, and a big one that we cancel right away. With `display=False` no
progress bar is shown under the cell; the table above follows both.
"""),
        code("""
small_job = nbjobs.normalize(small, columns, name="small batch", display=False)
big_job = nbjobs.normalize(big, columns, name="big batch (cancelled)", display=False)
big_job.cancel()  # a running job stops between two chunks; a queued one never starts
"""),
        code("""
small_job.wait()
big_job.wait()
"""),
        checked(
            """
print(small_job.status, big_job.status)
print(big_job.info["processedRows"] < len(big))
""",
            "completed cancelled\nTrue\n",
        ),
        md("""
A cancelled job keeps the counts it reached. Cancelling a job that has already finished is
refused with `nbjobs.exceptions.Conflict`:
"""),
        checked(
            """
from nbjobs.exceptions import Conflict

try:
    small_job.cancel()
except Conflict as refused:
    print("refused:", type(refused).__name__)
""",
            "refused: Conflict\n",
        ),
        md("The same table again: a second view of the one live object."),
        code("table"),
    ]


# -- cli_and_rest.ipynb ----------------------------------------------------------------------


def cli_and_rest() -> list[NotebookNode]:
    return [
        md("""
# The CLI and the REST API, from a notebook

Everything the notebook API does goes through a REST API on the Jupyter server, which any
HTTP client can use, and the `nbjobs` command line uses too. First, the server: the one this
notebook found (on Binder, the one running JupyterLab), or a private one it started.
"""),
        code("""
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import requests

import nbjobs

server = nbjobs.connect().server
print(f"{server.url}{server.base_url} (found as: {server.source})")

# The CLI (a subprocess) should use the same server: it reads NBJOBS_URL and NBJOBS_TOKEN.
os.environ["NBJOBS_URL"] = server.url + server.base_url
os.environ["NBJOBS_TOKEN"] = server.token
"""),
        md("A CSV file to work on, in a temporary directory:"),
        code("""
workdir = Path(tempfile.mkdtemp(prefix="nbjobs-demo-"))
csv_path = workdir / "contacts.csv"
pd.DataFrame({
    "Full Name": ["jane DOE", "Dr. John  Smith", "maría josé garcía", "li wei", "???"] * 400,
    "Phone": ["(415) 555-2671", "415.555.9012", "+44 20 7946 0958", "not a phone", ""] * 400,
    "Email": ["Jane.Doe@Example.COM", "john@bad..domain", "maria@example.org", "li@example.co.uk",
              ""] * 400,
}).to_csv(csv_path, index=False)
print(f"{csv_path}: {len(pd.read_csv(csv_path)):,} rows")
"""),
        md("""
## The `nbjobs` command line

`nbjobs fields` lists the field types; `nbjobs normalize` runs a job and writes the output
(and the invalid rows). In a terminal it shows a progress bar fed by the server's events.
`python -m nbjobs` is the same program as `nbjobs`; here it is the kernel's own Python, so
the command works whatever is on `PATH`.
"""),
        code("!{sys.executable} -m nbjobs fields"),
        md("`nbjobs detect` shows the type the server detects for each column of a file:"),
        code("!{sys.executable} -m nbjobs detect {csv_path}"),
        code("""
out_path, bad_path = workdir / "contacts-normalized.csv", workdir / "contacts-invalid.csv"
!{sys.executable} -m nbjobs normalize {csv_path} -c "Full Name=name" -c Phone=phone -c Email=email \\
    -o {out_path} --invalid {bad_path}
"""),
        checked(
            """
cli_output, cli_invalid = pd.read_csv(out_path), pd.read_csv(bad_path)
print(len(cli_output), len(cli_invalid) == (~cli_output["_valid"]).sum())
""",
            "2000 True\n",
        ),
        md("""
## The REST API with `requests`

Under `<base_url>nbjobs/api/`, authenticated like any Jupyter API: here with the token in an
`Authorization` header. The OpenAPI description is `docs/openapi.yaml`.
"""),
        code("""
api = server.api_url()  # http://host:port/<base_url>nbjobs/api/
headers = {"Authorization": f"token {server.token}"}

requests.get(api + "fields", headers=headers, timeout=30).json()
"""),
        md("""
**Submit**: a multipart upload of the file, with the column spec as JSON. 201, and the job at
once:
"""),
        code("""
with open(csv_path, "rb") as upload:
    response = requests.post(
        api + "jobs",
        headers=headers,
        files={"file": ("contacts.csv", upload, "text/csv")},
        data={"columns": json.dumps({"Full Name": "name", "Phone": "phone", "Email": "email"}),
              "name": "contacts via REST"},
        timeout=60,
    )
job = response.json()
job_id = job["jobId"]
job
"""),
        checked('print(response.status_code, job["status"])', "201 queued\n"),
        md("""
**Get** the job. The events are on Socket.IO; a plain HTTP client without them polls instead:
"""),
        code("""
FINAL = {"completed", "failed", "cancelled", "interrupted"}


def wait_for(job_id: int) -> dict:
    while True:
        job = requests.get(api + f"jobs/{job_id}", headers=headers, timeout=30).json()
        if job["status"] in FINAL:
            return job
        time.sleep(0.25)


job = wait_for(job_id)
{key: job[key] for key in ("status", "processedRows", "validRows", "invalidRows", "outputFileUrl")}
"""),
        checked('print(job["status"], job["processedRows"])', "completed 2000\n"),
        md("**List** the latest jobs (newest first):"),
        code("""
listed = requests.get(api + "jobs", params={"limit": 5}, headers=headers, timeout=30).json()["jobs"]
pd.DataFrame(listed)[["jobId", "inputName", "status", "processedRows", "validRows", "invalidRows"]]
"""),
        checked("print(any(listed_job['jobId'] == job_id for listed_job in listed))", "True\n"),
        md("""
**Download** the output and the invalid rows: `outputFileUrl` and `invalidRowsUrl` are server
paths; `?format=parquet` gives Parquet instead of CSV.
"""),
        code("""
def download(path: str, **params: str) -> bytes:
    response = requests.get(server.url + path, params=params, headers=headers, timeout=60)
    response.raise_for_status()
    return response.content


output = pd.read_parquet(io.BytesIO(download(job["outputFileUrl"], format="parquet")))
invalid = pd.read_csv(io.BytesIO(download(job["invalidRowsUrl"])))
invalid[["Full Name", "Phone", "Email", "_errors"]].drop_duplicates().head()
"""),
        checked(
            """
print(len(output), len(invalid) == job["invalidRows"])
""",
            "2000 True\n",
        ),
        md("""
**Cancel**: 202 while the job is queued or running (it stops between two chunks); 409 once
it has finished. Errors are JSON with a `message` and the name of the `error`.
"""),
        code("""
big = pd.concat([pd.read_csv(csv_path)] * 50)  # 100,000 rows
response = requests.post(
    api + "jobs",
    headers=headers,
    files={"file": ("big.csv", big.to_csv(index=False).encode(), "text/csv")},
    data={"columns": json.dumps({"Full Name": "name", "Phone": "phone", "Email": "email"})},
    timeout=60,
)
big_id = response.json()["jobId"]
cancel = requests.post(api + f"jobs/{big_id}/cancel", headers=headers, timeout=30)
cancelled = wait_for(big_id)
again = requests.post(api + f"jobs/{big_id}/cancel", headers=headers, timeout=30)
again.json()
"""),
        checked(
            'print(cancel.status_code, cancelled["status"], again.status_code, again.json()["error"])',
            "202 cancelled 409 Conflict\n",
        ),
        md("A bad request is refused before anything is stored, with a message saying why:"),
        code("""
with open(csv_path, "rb") as upload:
    refused = requests.post(
        api + "jobs",
        headers=headers,
        files={"file": ("contacts.csv", upload, "text/csv")},
        data={"columns": json.dumps({"Phone": "telephone"})},
        timeout=60,
    )
refused.json()
"""),
        checked("print(refused.status_code, refused.json()['error'])", "400 SpecError\n"),
        md("The temporary files go; the jobs and their outputs stay on the server."),
        code("""
import shutil

shutil.rmtree(workdir)
"""),
    ]


BUILDERS: dict[str, Callable[[], list[NotebookNode]]] = {
    "quickstart": quickstart,
    "large_job": large_job,
    "jobs_table": jobs_table,
    "cli_and_rest": cli_and_rest,
}


def render(name: str) -> str:
    return nbformat.writes(notebook(name, BUILDERS[name]())) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    args = parser.parse_args(argv)
    stale = []
    for name in BUILDERS:
        path = NOTEBOOKS / f"{name}.ipynb"
        text = render(name)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"out of date (run {Path(__file__).name}): {', '.join(stale)}", file=sys.stderr)
        return 1
    if not args.check:
        print(f"wrote {', '.join(stale) or 'nothing (all up to date)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
