"""URLs as the run uses them: page URL templates checked whole, origins, credentials removed."""

from __future__ import annotations

import re
import string
from collections.abc import Collection
from urllib.parse import urlsplit, urlunsplit

MAX_HOST_CHARS = 253  # DNS's longest host name (RFC 1035 2.3.4)
DEFAULT_PORTS = {"http": 80, "https": 443}


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed, so it can be shown and logged; also for a
    URL that `urlsplit` refuses (``http://u:pw@[::1/x``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/?#]*@", "//", url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``; ValueError when it does not parse."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in DEFAULT_PORTS or not host:
        raise ValueError(url)
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}:{port}"


def template_fields(url: str, allowed: Collection[str]) -> set[str]:
    """The fields of the URL template ``url``, all of ``allowed``; ValueError saying what is
    wrong with it. A field is a bare ``{name}`` in the path or query: no attribute or index
    (``{page.__class__}``), conversion (``{page!r}``) or format spec (``{page:>999999999}``
    makes a 1 GB URL). No whitespace or control character anywhere (an indented line in
    sites.conf continues the value), a host within DNS's lengths, a port from 1 to 65535."""
    bad = next((i for i, c in enumerate(url) if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise ValueError(f"whitespace or a control character at position {bad + 1}")
    fields: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(url))
    except ValueError:
        raise ValueError("unbalanced braces ('{{' and '}}' are braces as text)") from None
    for _, name, spec, conversion in parsed:
        if name is not None and (name not in allowed or spec or conversion):
            named = " or ".join(f"'{{{field}}}'" for field in sorted(allowed))
            raise ValueError(f"only {named} may be in braces" if allowed else "no braces here")
        if name is not None:
            fields.add(name)
    try:
        parts = urlsplit(url)
    except ValueError:  # the only complaint of urlsplit
        raise ValueError("the host in brackets is not an IPv6 address") from None
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    if "{" in parts.netloc or "}" in parts.netloc:
        raise ValueError("braces in the host or port: requests go to one origin")
    host = parts.hostname
    if not host:
        raise ValueError("no host")
    if ":" not in host:  # a name, not an IPv6 address
        try:
            dns = host.encode("idna")  # checks each label: 1 to 63 characters, IDNA's rules
        except UnicodeError:
            raise ValueError("a host name label is empty, over 63 characters or not IDNA") from None
        if len(dns.rstrip(b".")) > MAX_HOST_CHARS:
            raise ValueError(f"host name over {MAX_HOST_CHARS} characters")
    return fields
