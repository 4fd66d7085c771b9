"""``nbjobs`` on the command line: run a job through a Jupyter server from a terminal.

    nbjobs normalize contacts.csv -c "Full Name=name" -c Phone=phone -o out.csv
    nbjobs normalize contacts.csv -c "Name=name:First+Middle+Last" -c Email=email
    nbjobs detect contacts.csv      # detected types, suggested combinations, the -c to accept
    nbjobs fields

``-c COLUMN=TYPE`` types an input column; the column name may contain "=" (the type is after the
last one). ``-c NEW=TYPE:SOURCE+SOURCE...`` builds the new column NEW from the sources, in order
(``{"NEW": {"type": TYPE, "from": [SOURCE, ...]}}`` in the notebook API): it is recognized by
the first "=" followed by a type name and ":"; sources are split on "+", so a source whose name
contains "+" cannot be given this way.

The server is found as in a notebook (``--url``/``--token``, ``NBJOBS_URL``, any local server
with nbjobs), or a private one is started for the run. Progress comes from the same Socket.IO
events the notebook widget shows. Exit status: 0 done, 1 failed or refused, 130 interrupted
(the job is cancelled).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from ..exceptions import Conflict, NbJobsError
from ..protocol import job_url
from .formatting import bar_text, describe, summary_text

__all__ = [
    "ProgressBar",
    "build_parser",
    "column_arguments",
    "main",
    "run_detect",
    "run_fields",
    "run_normalize",
]

BAR_WIDTH = 30
COMBINATION_SEPARATOR = "+"


_COMBINATION = re.compile(r"^(?P<column>.+?)=(?P<type>\w+):(?P<sources>.*)$", re.DOTALL)


def _column(spec: str) -> tuple[str, str | dict[str, Any]]:
    combination = _COMBINATION.match(spec)
    if combination:
        sources = combination["sources"].split(COMBINATION_SEPARATOR)
        if not all(sources):
            raise argparse.ArgumentTypeError(
                f"expected NEW=TYPE:SOURCE+SOURCE..., got {spec!r} (an empty source name)"
            )
        return combination["column"], {"type": combination["type"], "from": sources}
    # Column names may contain "=", field types never do.
    column, sep, field = spec.rpartition("=")
    if not sep or not column or not field:
        raise argparse.ArgumentTypeError(f"expected COLUMN=TYPE, got {spec!r}")
    return column, field


def column_arguments(spec: Mapping[str, Any]) -> list[str]:
    """A columns spec as the ``-c`` arguments that ``_column`` parses back."""
    args = []
    for name, entry in spec.items():
        if not isinstance(entry, str):
            entry = f"{entry['type']}:{COMBINATION_SEPARATOR.join(entry['from'])}"
        args += ["-c", f"{name}={entry}"]
    return args


def _option(spec: str) -> tuple[str, Any]:
    key, sep, raw = spec.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {spec!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbjobs", description="Normalize tables in the background on a Jupyter server."
    )
    parser.add_argument("--url", help="Jupyter server URL, e.g. http://127.0.0.1:8888/base/")
    parser.add_argument("--token", help="Jupyter server token")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("normalize", help="normalize a CSV, Arrow or Parquet file")
    run.add_argument("input", type=Path, help="the file to normalize")
    run.add_argument(
        "-c",
        "--column",
        dest="columns",
        type=_column,
        action="append",
        metavar="COLUMN=TYPE",
        help='a column and its field type, e.g. -c "Full Name=name" (TYPE auto: detect), or a '
        'new column combining others in order, e.g. -c "Name=name:First+Middle+Last"; '
        "without -c every column's type is detected",
    )
    run.add_argument("-o", "--output", type=Path, help="where to write the normalized table")
    run.add_argument(
        "--format",
        choices=("csv", "parquet"),
        help="output format (default: from the output suffix, else csv)",
    )
    run.add_argument("--invalid", type=Path, help="also write the invalid rows here")
    detect = commands.add_parser(
        "detect", help="show detected column types and suggested column combinations"
    )
    detect.add_argument("input", type=Path, help="a CSV, Arrow or Parquet file (first 500 rows)")
    detect.add_argument("--json", action="store_true", help="print the server's JSON answer")
    for sub in (run, detect):
        sub.add_argument("--region", help='default phone region, e.g. GB (option "default_region")')
        sub.add_argument(
            "--option",
            dest="options",
            type=_option,
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="an engine option (JSON value or text)",
        )
    run.add_argument("--name", help="input name shown in job lists (default: the file name)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    # The shared options are accepted after the subcommand too.
    for sub in (run, detect, commands.add_parser("fields", help="list the field types")):
        sub.add_argument("--url", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.add_argument("--token", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


class ProgressBar:
    """A one-line progress bar on a terminal; silent when the stream is not a terminal."""

    def __init__(self, stream: TextIO, *, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self._lock = threading.Lock()
        self._shown = False

    def update(self, info: dict[str, Any]) -> None:
        if not self.enabled:
            return
        line = f"\r{bar_text(info, BAR_WIDTH)} "
        with self._lock:
            self.stream.write(line)
            self.stream.flush()
            self._shown = True

    def close(self) -> None:
        with self._lock:
            if self._shown:
                self.stream.write("\n")
                self.stream.flush()
                self._shown = False


def _output_format(args: argparse.Namespace, path: Path) -> str:
    if args.format:
        return args.format
    return "parquet" if path.suffix.lower() == ".parquet" else "csv"


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options = dict(args.options)
    if args.region:
        options["default_region"] = args.region
    return options


def _connection(args: argparse.Namespace) -> Any:
    from . import connection

    return connection.connect(args.url, args.token) if args.url else connection.current()


@contextlib.contextmanager
def _interrupt_deferred() -> Iterator[threading.Event]:
    """Ctrl+C held back while the body runs (the event is set if it came), so that it cannot
    land between the server creating a job and this process learning its id: that job would
    run on with nobody to cancel it. A second Ctrl+C quits at once."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed  # signals reach the main thread only: nothing to hold back here
        return

    def hold(signum: int, frame: Any) -> None:
        if pressed.is_set():
            raise KeyboardInterrupt
        pressed.set()
        print(
            "\nnbjobs: cancelling once the upload ends (Ctrl+C again to quit now).",
            file=sys.stderr,
        )

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def run_normalize(args: argparse.Namespace) -> int:
    from .notebook import submit

    options = _options(args)
    conn = _connection(args)
    columns = dict(args.columns) if args.columns else None
    with _interrupt_deferred() as interrupted:
        job = submit(conn, args.input, columns, name=args.name, options=options)
    bar = ProgressBar(sys.stderr, enabled=not args.quiet)
    job.subscribe(lambda j: bar.update(j.info))
    bar.update(job.info)
    try:
        if interrupted.is_set():
            raise KeyboardInterrupt
        job.wait()
    except KeyboardInterrupt:
        bar.close()
        with contextlib.suppress(Conflict):  # it finished meanwhile
            job.cancel()
        print(f"nbjobs: interrupted; job #{job.id} cancelled.", file=sys.stderr)
        return 130
    finally:
        bar.close()
    if job.status != "completed":
        print(f"nbjobs: {describe(job.info)}", file=sys.stderr)
        return 1
    fmt = _output_format(args, args.output or Path(f"{args.input.stem}-normalized.csv"))
    output = args.output or Path(f"{args.input.stem}-normalized.{fmt}")
    base_url = conn.server.base_url
    conn.download(job_url(base_url, job.id, "output"), str(output), params={"format": fmt})
    written = [str(output)]
    if args.invalid:
        invalid_fmt = "parquet" if args.invalid.suffix.lower() == ".parquet" else "csv"
        conn.download(
            job_url(base_url, job.id, "invalid"), str(args.invalid), params={"format": invalid_fmt}
        )
        written.append(str(args.invalid))
    print(f"{describe(job.info)} -> {', '.join(written)}")
    if job.info.get("summary"):  # fetched by job.wait()
        print(summary_text(job.info["summary"]))
    return 0


def run_detect(args: argparse.Namespace) -> int:
    from .notebook import request_detection

    found = request_detection(_connection(args), args.input, options=_options(args))
    if args.json:
        print(json.dumps(found.info, indent=2))
        return 0
    print(repr(found))
    command = ["nbjobs", "normalize", str(args.input)]
    if found.suggestions:
        print("\nTo accept the suggestions:")
        print("  " + shlex.join(command + column_arguments(found.spec(accept=True))))
        print("Without them:")
    else:
        print("\nTo normalize with these types:")
    print("  " + shlex.join(command + column_arguments(found.spec(accept=False))))
    return 0


def run_fields(args: argparse.Namespace) -> int:
    conn = _connection(args)
    for field in conn.get_json("fields")["fields"]:
        print(field)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "normalize":
            return run_normalize(args)
        if args.command == "detect":
            return run_detect(args)
        return run_fields(args)
    except NbJobsError as exc:
        print(f"nbjobs: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:  # unreadable input, unwritable output
        print(f"nbjobs: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nbjobs: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
