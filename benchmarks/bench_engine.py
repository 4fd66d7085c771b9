"""The engine in-process against goldenflow, same contacts, same machine, one run.

A DataFrame of Faker en_US contacts (name, phone, email) goes through nbjobs' ``Normalizer``
(compiled parsers, "auto", and the reference libraries only, "reference") and through goldenflow
(Polars with Rust kernels, in its own venv: goldenflow_peer.py), at 10% distinct values per
column and with every value distinct. Each is timed from DataFrame in to normalized DataFrame
out (best of ``--repeats``, a fresh engine each time: nothing cached between runs), then a
correctness table asks the reference libraries about the outputs: the share of output phone
numbers that phonenumbers says are not valid numbers, and of output emails that email-validator
rejects (syntax).

    .venv/bin/python benchmarks/bench_engine.py --rows 100000

The peer's venv (goldenflow 2.2.0 + goldenflow-native 0.28.0) is made at --peer-venv on first
use. Results: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import email_validator
import pandas as pd
import phonenumbers
from bench_name import nameparser_calls
from faker import Faker

from nbjobs.normalization import Normalizer, backends

HERE = Path(__file__).parent
PEER_PACKAGES = ["goldenflow[polars]==2.2.0", "goldenflow-native==0.28.0"]
SPEC = {"name": "name", "phone": "phone", "email": "email"}


def contacts(rows: int, distinct: float, seed: int = 1) -> pd.DataFrame:
    """``rows`` Faker en_US contacts; each column draws from ``distinct * rows`` values."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    pool = max(1, int(rows * distinct))
    names = [fake.name() for _ in range(pool)]
    phones = [fake.phone_number() for _ in range(pool)]
    emails = [fake.email() for _ in range(pool)]
    if pool == rows:
        return pd.DataFrame({"name": names, "phone": phones, "email": emails})
    rng = random.Random(seed)
    return pd.DataFrame(
        {
            "name": rng.choices(names, k=rows),
            "phone": rng.choices(phones, k=rows),
            "email": rng.choices(emails, k=rows),
        }
    )


def time_nbjobs(frame: pd.DataFrame, choice: backends.Choice, repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        normalizer = Normalizer(SPEC, parser_backend=choice)
        out = normalizer.normalize_chunk(frame).frame
        best = min(best, time.perf_counter() - started)
    return best, out


def peer_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def time_goldenflow(frame: pd.DataFrame, python: Path, repeats: int) -> tuple[dict, pd.DataFrame]:
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp, "in.parquet"), Path(tmp, "out.parquet")
        frame.to_parquet(source, index=False)
        done = subprocess.run(
            [str(python), str(HERE / "goldenflow_peer.py"), str(source), str(target), str(repeats)],
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1]), pd.read_parquet(target)


def invalid_phone_share(values: pd.Series) -> tuple[float, int]:
    """The share of non-empty outputs phonenumbers does not call valid numbers."""
    outputs = [v for v in values.dropna().astype(str) if v]
    bad = 0
    for value in outputs:
        try:
            ok = phonenumbers.is_valid_number(phonenumbers.parse(value, None))
        except phonenumbers.NumberParseException:
            ok = False
        bad += not ok
    return bad / max(1, len(outputs)), len(outputs)


def invalid_email_share(values: pd.Series) -> tuple[float, int]:
    outputs = [v for v in values.dropna().astype(str) if v]
    bad = 0
    for value in outputs:
        try:
            email_validator.validate_email(value, check_deliverability=False)
        except email_validator.EmailNotValidError:
            bad += 1
    return bad / max(1, len(outputs)), len(outputs)


NAME_LOCALES = (
    "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "pl_PL", "sv_SE",
    "tr_TR", "en_IN",
)  # fmt: skip


def name_fast_path_coverage(names: list[str]) -> float:
    """The share of ``names`` whose cleaned text the name field's own fast path reads, never
    reaching nameparser."""
    return 1 - nameparser_calls(names) / max(1, len(names))


def faker_names(count: int, seed: int = 3) -> list[str]:
    fakers = []
    for locale in NAME_LOCALES:
        fake = Faker(locale)
        fake.seed_instance(seed)
        fakers.append(fake)
    return list(dict.fromkeys(fakers[i % len(fakers)].name() for i in range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-venv", type=Path, default=HERE / ".peer-venv")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    python = peer_python(args.peer_venv)
    chosen = backends.use("auto")
    print("nbjobs compiled backends:", ", ".join(str(b) for b in chosen.values() if b.compiled))
    report: dict[str, Any] = {"rows": args.rows, "scenarios": {}}
    for distinct in (0.1, 1.0):
        frame = contacts(args.rows, distinct)
        auto_s, auto_out = time_nbjobs(frame, "auto", args.repeats)
        ref_s, _ = time_nbjobs(frame, "reference", args.repeats)
        peer, peer_out = time_goldenflow(frame, python, args.repeats)
        rows = len(frame)
        scenario = {
            "nbjobs_auto_rows_per_s": rows / auto_s,
            "nbjobs_reference_rows_per_s": rows / ref_s,
            "goldenflow_rows_per_s": rows / peer["seconds"],
            "ratio_auto_to_goldenflow": peer["seconds"] / auto_s,
            "invalid_phone_outputs": {
                "nbjobs": invalid_phone_share(auto_out["phone_normalized"]),
                "goldenflow": invalid_phone_share(peer_out["phone"]),
            },
            "invalid_email_outputs": {
                "nbjobs": invalid_email_share(auto_out["email_normalized"]),
                "goldenflow": invalid_email_share(peer_out["email"]),
            },
            "peer": peer,
        }
        report["scenarios"][f"{distinct:.0%} distinct"] = scenario
        print(f"\n{distinct:.0%} distinct, {rows:,} rows (best of {args.repeats})")
        print(f"  nbjobs auto       {scenario['nbjobs_auto_rows_per_s']:>10,.0f} rows/s")
        print(f"  nbjobs reference  {scenario['nbjobs_reference_rows_per_s']:>10,.0f} rows/s")
        print(
            f"  goldenflow        {scenario['goldenflow_rows_per_s']:>10,.0f} rows/s  "
            f"(nbjobs auto = {scenario['ratio_auto_to_goldenflow']:.2f}x goldenflow)"
        )
        for what in ("invalid_phone_outputs", "invalid_email_outputs"):
            cells = scenario[what]
            print(
                f"  {what.replace('_', ' ')}: nbjobs {cells['nbjobs'][0]:.2%} of "
                f"{cells['nbjobs'][1]:,}, goldenflow {cells['goldenflow'][0]:.2%} of "
                f"{cells['goldenflow'][1]:,}"
            )
    benchmark_names = list(dict.fromkeys(contacts(args.rows, 1.0)["name"]))
    world_names = faker_names(args.rows)
    report["name_fast_path_coverage"] = {
        "benchmark_names": name_fast_path_coverage(benchmark_names),
        "faker_names_12_locales": name_fast_path_coverage(world_names),
    }
    print(
        f"\nname fast path (never reaches nameparser): "
        f"{report['name_fast_path_coverage']['benchmark_names']:.1%} of {len(benchmark_names):,} "
        f"benchmark names, {report['name_fast_path_coverage']['faker_names_12_locales']:.1%} of "
        f"{len(world_names):,} Faker names of {len(NAME_LOCALES)} locales"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
