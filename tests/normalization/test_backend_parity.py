"""The parity gate: a compiled backend gives exactly the reference library's outputs.

For each field type with a compiled port (``normalization.backends``), nbjobs' field runs with
the port and with the reference library on 50,000 generated values (Faker, many locales, messy
variants: benchmarks/parity.py, which also runs longer) and on every vector of the field's tests,
and no result may differ: value, components, reason and repairs, under each option that changes
them. ``auto`` takes a port only at the versions this gate passed; the other tests here hold the
fallback rules.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from nbjobs.normalization import Normalizer, backends
from nbjobs.normalization.fields import phone

from . import test_fields_address, test_fields_phone

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
import parity

GENERATED = 50_000


@pytest.fixture(autouse=True)
def _restore_backend():
    yield
    backends.use("auto")


def _compiled() -> dict[str, backends.Backend]:
    return {field: b for field, b in backends.use("auto").items() if b.compiled}


def _vectors(kind: str) -> list[str]:
    module = test_fields_phone if kind == "phone" else test_fields_address
    texts = [case[0] for case in module.VALID] + [case[0] for case in module.INVALID]
    return [text.strip() for text in texts if isinstance(text, str) and text.strip()]


def test_the_gated_ports_are_installed_here():
    """The test command installs nbjobs[fast]: the gate below runs on both ports, not on none."""
    assert set(_compiled()) == {"phone", "address"}, backends.use("auto")


@pytest.mark.parametrize("kind", ["phone", "address"])
def test_compiled_and_reference_agree_on_every_output(kind):
    if kind not in _compiled():
        pytest.skip(f"no compiled backend for {kind} here")
    texts = list(dict.fromkeys(parity.values(kind, GENERATED, seed=7) + _vectors(kind)))
    found = list(parity.differences(kind, texts))
    assert not found, f"{len(found)} differences, first: {found[:5]}"


def test_the_generated_values_are_varied():
    """The gate means something only if its values reach every outcome of each field."""
    texts = parity.values("phone", 5000, seed=7)
    backends.use("reference")
    reasons = {result.reason for result in phone.normalize_values(texts, {})}
    notes = {note for result in phone.normalize_values(texts, {}) for note in result.notes}
    assert set(phone.REASONS) <= reasons
    assert set(phone.REPAIRS) <= notes
    regions = {result.components[3] for result in phone.normalize_values(texts, {}) if result.value}
    assert len(regions) >= 12, regions


def test_reference_takes_the_reference_libraries():
    chosen = backends.use("reference")
    assert chosen["phone"].library == "phonenumbers"
    assert chosen["address"].library == "usaddress"
    assert not any(b.compiled for b in chosen.values())


def test_a_normalizer_sets_its_backend_for_its_chunks():
    reference = Normalizer({"Phone": "phone"}, parser_backend="reference")
    Normalizer({"Phone": "phone"}, parser_backend="auto")  # another job of this process
    reference.parse("phone", ["+1 415 555 2671"])
    assert backends.active()["phone"].library == "phonenumbers"


def test_an_unknown_choice_is_refused():
    with pytest.raises(ValueError, match="auto, reference"):
        backends.use("fastest")  # type: ignore[arg-type]


def test_a_port_at_an_ungated_version_falls_back_with_one_log_line(monkeypatch, caplog):
    real = backends._version
    monkeypatch.setattr(
        backends, "_version", lambda package: "0.2.0" if package == "fastaddress" else real(package)
    )
    monkeypatch.setattr(backends, "_explained", set())
    backends.use("reference")
    with caplog.at_level(logging.INFO, logger=backends.__name__):
        chosen = backends.use("auto")
        backends.use("reference")
        backends.use("auto")
    assert chosen["address"].library == "usaddress"
    lines = [r.getMessage() for r in caplog.records if "fastaddress" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "address values parsed by usaddress" in lines[0]
    assert "0.2.0" in lines[0]


def test_a_port_that_fails_to_import_falls_back(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "rphonenumbers", None)  # import raises ImportError
    monkeypatch.setattr(backends, "_explained", set())
    backends.use("reference")
    with caplog.at_level(logging.INFO, logger=backends.__name__):
        chosen = backends.use("auto")
    assert chosen["phone"].library == "phonenumbers"
    assert any("failed to import" in r.getMessage() for r in caplog.records)
    assert phone.normalize_value("+1 415 555 2671", {}).value == "+14155552671"


def test_rphonenumbers_needs_the_metadata_of_the_installed_phonenumbers(monkeypatch):
    real = backends._version
    monkeypatch.setattr(
        backends,
        "_version",
        lambda package: "9.0.99" if package == "phonenumbers" else real(package),
    )
    backends.use("reference")
    assert backends.use("auto")["phone"].library == "phonenumbers"
