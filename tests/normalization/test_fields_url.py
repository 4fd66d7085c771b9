"""``url``: root domain by the bundled Public Suffix List, subdomain and suffix as components."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import url

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

VALID = [
    ("https://www.shop.example.co.uk/a?b=1", "example.co.uk", ("www.shop", "co.uk")),
    ("Example.COM", "example.com", ("", "com")),
    ("HTTPS://WWW.EXAMPLE.COM", "example.com", ("www", "com")),
    ("www.google.com/search?q=a+b", "google.com", ("www", "com")),
    ("example.com:8080/x", "example.com", ("", "com")),
    ("http://user:pw@Sub.Example.org:99/", "example.org", ("sub", "org")),
    ("ftp://files.example.net", "example.net", ("files", "net")),
    ("//cdn.example.com/x.js", "example.com", ("cdn", "com")),
    ("example.com.", "example.com", ("", "com")),  # fully qualified, trailing dot
    ("https://b\u00fccher.de", "b\u00fccher.de", ("", "de")),
    ("xn--bcher-kva.de", "b\u00fccher.de", ("", "de")),  # punycode shown in Unicode
    ("a.b.example.com.au/path#frag", "example.com.au", ("a.b", "com.au")),
    ("x.github.io", "github.io", ("x", "io")),  # private suffixes are not used
    ("my_host.example.com", "example.com", ("my_host", "com")),
    ("example.com,", "example.com", ("", "com")),  # copied out of a list
    # A host that begins with a digit, after a scheme (not a port: "example.com:8080").
    ("https://3m.com", "3m.com", ("", "com")),
    ("http://7-eleven.com/about", "7-eleven.com", ("", "com")),
    ("HTTPS://www.365.com", "365.com", ("www", "com")),
]
INVALID = [
    ("mailto:a@example.com", "url_invalid"),
    ("john@example.com", "url_invalid"),
    ("javascript:alert(1)", "url_invalid"),
    ("not a url", "url_invalid"),
    ("http://exa mple.com", "url_invalid"),
    ("http://-bad-.com", "url_invalid"),
    ("http://a..b.com", "url_invalid"),
    ("http://[::1/", "url_invalid"),
    ("http://192.168.0.1/", "url_no_domain"),
    ("localhost", "url_no_domain"),
    ("foo.notatld", "url_no_domain"),
    ("www.example", "url_no_domain"),
    ("http:///x", "url_no_domain"),
    ("co.uk", "url_no_domain"),  # a public suffix alone has no registrable domain
]


@pytest.mark.parametrize(("raw", "value", "components"), VALID)
def test_valid(raw, value, components):
    assert normalize(url, raw) == FieldResult(value, components, None)


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_invalid(raw, reason):
    assert normalize(url, raw) == invalid(url, reason)


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID])
def test_idempotent(raw):
    assert_idempotent(url, raw)


def test_never_touches_the_network(monkeypatch):
    # A fresh extractor with the module's settings must answer with every socket refused.
    def refuse(*args, **kwargs):
        raise AssertionError("network access")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    fresh = type(url._EXTRACT)(suffix_list_urls=(), cache_dir=None)
    assert fresh("www.example.co.uk").suffix == "co.uk"
    assert url._EXTRACT.suffix_list_urls == ()


@given(texts("abcxyz019.-:/@_ ?#[]"))
def test_never_raises_and_is_idempotent(value):
    direct(url, value)
    assert_idempotent(url, value)
