"""The Host check of the web port: a request naming an unexpected host is refused (DNS rebinding).

A browser tricked into sending a request to the worker from another site's page names that site in the
Host header; the worker answers only the names it is configured with (``web.allowedHosts``: exact names,
or ``.example.org`` for a domain and its subdomains) and IP literals (probes and scrapes by pod address).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def host_name(header: str) -> str:
    """The name of a Host header without its port (``[::1]:6066`` -> ``::1``), lower case."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(header: str | None, allowed: Iterable[str]) -> bool:
    if not header:
        return False
    name = host_name(header)
    if not name:
        return False
    if _is_ip(name):
        return True
    for entry in allowed:
        entry = entry.strip().lower().rstrip(".")
        if entry.startswith("."):
            if name == entry[1:] or name.endswith(entry):
                return True
        elif name == entry:
            return True
    return False


def plain_http_to_remote(url: str) -> bool:
    """True when ``url`` is plain http to a host that is not this machine (credentials and student data
    would cross the network unencrypted)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return False
    name = (parts.hostname or "").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(name).is_loopback
    except ValueError:
        return True
