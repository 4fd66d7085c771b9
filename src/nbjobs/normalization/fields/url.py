"""``url``: a web address reduced to its registrable root domain by the Public Suffix List.

``https://www.shop.example.co.uk/a?b=1`` -> ``example.co.uk``, with ``subdomain`` "www.shop"
and ``suffix`` "co.uk" as components. A bare host ("Example.com") is accepted; the host is
lowercased and punycode labels are shown in Unicode ("xn--bcher-kva.de" -> "bücher.de").

The suffix list is tldextract's bundled snapshot, never fetched: a job must not wait on the
network, and results must not change with the day the job ran. Private suffixes (blogspot.com,
github.io) are not used, so "x.github.io" has the root "github.io".

Invalid: no host, an IP address or a host without a known public suffix (``url_no_domain``);
a scheme other than http(s)/ftp, characters no host name can hold, or an email address
(``url_invalid``).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import tldextract

from . import SHARED_REPAIRS, FieldResult, Option, OptionsMap, invalid, map_values

NAME = "url"
COMPONENTS = ("subdomain", "suffix")
REASONS = {
    "url_invalid": "Not a web address (bad characters, an email address or a non-web scheme).",
    "url_no_domain": "No registrable domain (an IP address, or no known public suffix).",
}
REPAIRS = {
    "reduced_to_domain": "Scheme, subdomain, port or path dropped: the registrable domain kept.",
    "lowercased": "Domain lowercased.",
    "idna_decoded": SHARED_REPAIRS["idna_decoded"],
    "reformatted": SHARED_REPAIRS["reformatted"],
}
OPTIONS: dict[str, Option] = {}

# suffix_list_urls=() and cache_dir=None: the bundled snapshot only, no network, no cache files.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):(?://)?", re.IGNORECASE)
_WEB_SCHEMES = {"http", "https", "ftp"}
# Letters of any script, digits, hyphens (not at either end) and underscores, which real DNS
# names carry.
_LABEL = re.compile(r"(?!-)[\w-]+(?<!-)")


def _unicode_label(label: str) -> str:
    """ "xn--bcher-kva" -> "bücher", as the email type shows domains; undecodable stays as is."""
    if not label.startswith("xn--"):
        return label
    try:
        return label.encode("ascii").decode("idna")
    except UnicodeError:
        return label


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    typed = value
    value = value.rstrip(",;")  # "example.com," copied out of a list
    if value.startswith("//"):  # protocol-relative, as in HTML: "//cdn.example.com/x.js"
        value = "http:" + value
    scheme = _SCHEME.match(value)
    # "example.com:8080" also matches the scheme pattern: digits right after a "scheme" without
    # "//" are a port. After "//" they begin a host ("https://3m.com").
    if scheme and (scheme[0].endswith("//") or not value[scheme.end() :][:1].isdigit()):
        if scheme[1].lower() not in _WEB_SCHEMES:
            return invalid(COMPONENTS, "url_invalid")
    elif "@" in value.split("/", 1)[0]:
        return invalid(COMPONENTS, "url_invalid")  # an email address, not a web address
    else:
        value = "http://" + value
    try:
        host = urlsplit(value).hostname or ""
    except ValueError:  # a malformed IPv6 literal or port
        return invalid(COMPONENTS, "url_invalid")
    host = ".".join(_unicode_label(label) for label in host.rstrip(".").split("."))
    if not host:
        return invalid(COMPONENTS, "url_no_domain")
    if not all(_LABEL.fullmatch(label) for label in host.split(".")):
        return invalid(COMPONENTS, "url_invalid")
    parts = _EXTRACT(host)
    if not parts.domain or not parts.suffix:
        return invalid(COMPONENTS, "url_no_domain")
    root = f"{parts.domain}.{parts.suffix}"
    return FieldResult(
        root, (parts.subdomain, parts.suffix), None, _notes(typed, root, parts.subdomain)
    )


def _notes(typed: str, root: str, subdomain: str) -> tuple[str, ...]:
    if root == typed:
        return ()
    if subdomain or any(char in typed for char in "/:?#@"):
        return ("reduced_to_domain",)
    if root == typed.lower():
        return ("lowercased",)
    return ("idna_decoded",) if "xn--" in typed.lower() else ("reformatted",)


normalize_values = map_values(normalize_value)
