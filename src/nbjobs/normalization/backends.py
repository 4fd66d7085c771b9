"""Which library parses each field type: the reference one, or a compiled port proven equal to it.

The reference libraries (phonenumbers, usaddress, ...) define nbjobs' answers. Where a compiled
port of one exists, ``"auto"`` parses with it, but only at versions the parity gate passed
(``tests/normalization/test_backend_parity.py``: zero differences in nbjobs' outputs, value,
components, reason and repairs, on generated values of many locales, messy variants and every
vector); anywhere else, and under ``"reference"``, the reference library parses. A compiled
package that is missing, fails to import or is at another version is never an error: the
reference library takes over and one log line says why.

=============  =====================  ==========================================================
field type     compiled port          used by "auto" when
=============  =====================  ==========================================================
``phone``      rphonenumbers (Rust)   0.1.x, built from the same libphonenumber metadata release
                                      as the installed phonenumbers (``__phonenumbers_version__``)
``address``    fastaddress (Rust)     0.1.x, with usaddress 0.5.16 to 0.5.x (the CRF model it
                                      carries)
=============  =====================  ==========================================================

``pip install 'nbjobs[fast]'`` installs both, with the phonenumbers release rphonenumbers was
built from. The choice is per process (``use``): a worker calls it with its executor's
``parser_backend`` before it parses (``Normalizer``, ``pool_process``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from .fields import address, phone

__all__ = ["BACKEND_CHOICES", "Backend", "Choice", "active", "use"]

Choice = Literal["auto", "reference"]
BACKEND_CHOICES: tuple[Choice, ...] = ("auto", "reference")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Port:
    """A compiled port of ``reference`` for ``field``, and the versions the gate passed."""

    field: str
    package: str
    versions: SpecifierSet
    reference: str
    reference_versions: SpecifierSet
    # Further agreement the versions alone do not show; the reason it fails, or None.
    check: Callable[[ModuleType], str | None]
    install: Callable[[ModuleType | None], None]  # the field module's switch


def _same_phone_metadata(module: ModuleType) -> str | None:
    built_for = getattr(module, "__phonenumbers_version__", None)
    installed = _version("phonenumbers")
    if built_for != installed:
        return (
            f"it carries libphonenumber metadata {built_for}, phonenumbers is {installed} "
            "(their answers differ where the metadata does)"
        )
    return None


_PORTS = (
    _Port(
        field="phone",
        package="rphonenumbers",
        versions=SpecifierSet(">=0.1.0,<0.2"),
        reference="phonenumbers",
        reference_versions=SpecifierSet(">=9.0,<10"),
        check=_same_phone_metadata,
        install=phone.use_library,
    ),
    _Port(
        field="address",
        package="fastaddress",
        versions=SpecifierSet(">=0.1.0,<0.2"),
        reference="usaddress",
        reference_versions=SpecifierSet(">=0.5.16,<0.6"),
        check=lambda module: None,
        install=address.use_parser,
    ),
)


@dataclass(frozen=True)
class Backend:
    """What parses ``field``: ``library`` at ``version``; ``compiled`` when it is a port."""

    field: str
    library: str
    version: str
    compiled: bool

    def __str__(self) -> str:
        return f"{self.field}: {self.library} {self.version}"


_active: dict[str, Backend] = {}
_chosen: Choice | None = None
_explained: set[str] = set()  # fallbacks already logged (one line each per process)


def use(choice: Choice = "auto") -> dict[str, Backend]:
    """Parse with ``choice``'s backends in this process from now on; what each field type got.

    Cheap when nothing changes (every chunk may call it)."""
    global _chosen
    if choice not in BACKEND_CHOICES:
        raise ValueError(f"parser_backend must be one of {', '.join(BACKEND_CHOICES)}: {choice!r}")
    if choice == _chosen:
        return dict(_active)
    for port in _PORTS:
        module = _load(port) if choice == "auto" else None
        port.install(module)
        if module is None:
            _active[port.field] = Backend(
                port.field, port.reference, _version(port.reference) or "?", compiled=False
            )
        else:
            _active[port.field] = Backend(
                port.field, port.package, _version(port.package) or "?", compiled=True
            )
    _chosen = choice
    return dict(_active)


def active() -> dict[str, Backend]:
    """The backend of each field type that has a compiled port, as ``use`` last chose."""
    return dict(_active) if _chosen else use("reference")


def _load(port: _Port) -> ModuleType | None:
    """The port's module when it may stand in for the reference library, else None (logged)."""
    version = _version(port.package)
    if version is None:
        return _fall_back(port, f"{port.package} is not installed (pip install 'nbjobs[fast]')")
    if not _within(version, port.versions):
        return _fall_back(
            port, f"{port.package} {version} is not in {port.versions}, what the gate passed"
        )
    reference_version = _version(port.reference)
    if reference_version is None or not _within(reference_version, port.reference_versions):
        return _fall_back(
            port,
            f"the gate passed {port.package} with {port.reference} {port.reference_versions}, "
            f"not {reference_version}",
        )
    try:
        module = importlib.import_module(port.package)
    except Exception as exc:  # a broken wheel (wrong CPU, missing shared library)
        return _fall_back(port, f"{port.package} {version} failed to import ({exc})")
    if (reason := port.check(module)) is not None:
        return _fall_back(port, f"{port.package} {version}: {reason}")
    return module


def _fall_back(port: _Port, reason: str) -> ModuleType | None:
    """None (the reference library parses), said in the log once per process and port."""
    if port.package not in _explained:
        _explained.add(port.package)
        log.info("nbjobs: %s values parsed by %s: %s.", port.field, port.reference, reason)
    return None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _within(version: str, versions: SpecifierSet) -> bool:
    try:
        return Version(version) in versions
    except InvalidVersion:
        return False
