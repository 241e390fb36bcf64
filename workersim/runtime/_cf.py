"""What Cloudflare adds to an incoming request at an edge: ``request.cf`` and the ``CF-*`` headers.

Each edge gets plausible defaults for a visitor near that location (``colo`` is the edge itself); a simulation
can override any of them per edge. The visitor's address is from the documentation range 203.0.113.0/24, one
per edge, so logs never show a real person's address.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ._headers import Headers

# colo: (country, city, region, continent, timezone, latitude, longitude)
_PLACES: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "SFO": ("US", "San Francisco", "California", "NA", "America/Los_Angeles", "37.77490", "-122.41940"),
    "IAD": ("US", "Ashburn", "Virginia", "NA", "America/New_York", "39.04370", "-77.48750"),
    "LAX": ("US", "Los Angeles", "California", "NA", "America/Los_Angeles", "34.05220", "-118.24370"),
    "ORD": ("US", "Chicago", "Illinois", "NA", "America/Chicago", "41.87810", "-87.62980"),
    "DFW": ("US", "Dallas", "Texas", "NA", "America/Chicago", "32.77670", "-96.79700"),
    "EWR": ("US", "Newark", "New Jersey", "NA", "America/New_York", "40.73570", "-74.17240"),
    "YYZ": ("CA", "Toronto", "Ontario", "NA", "America/Toronto", "43.65320", "-79.38320"),
    "GRU": ("BR", "São Paulo", "São Paulo", "SA", "America/Sao_Paulo", "-23.55050", "-46.63330"),
    "LHR": ("GB", "London", "England", "EU", "Europe/London", "51.50740", "-0.12780"),
    "FRA": ("DE", "Frankfurt am Main", "Hesse", "EU", "Europe/Berlin", "50.11090", "8.68210"),
    "CDG": ("FR", "Paris", "Île-de-France", "EU", "Europe/Paris", "48.85660", "2.35220"),
    "AMS": ("NL", "Amsterdam", "North Holland", "EU", "Europe/Amsterdam", "52.36760", "4.90410"),
    "MAD": ("ES", "Madrid", "Madrid", "EU", "Europe/Madrid", "40.41680", "-3.70380"),
    "SIN": ("SG", "Singapore", "Singapore", "AS", "Asia/Singapore", "1.35210", "103.81980"),
    "NRT": ("JP", "Tokyo", "Tokyo", "AS", "Asia/Tokyo", "35.67620", "139.65030"),
    "HKG": ("HK", "Hong Kong", "Hong Kong", "AS", "Asia/Hong_Kong", "22.31930", "114.16940"),
    "BOM": ("IN", "Mumbai", "Maharashtra", "AS", "Asia/Kolkata", "19.07600", "72.87770"),
    "SYD": ("AU", "Sydney", "New South Wales", "OC", "Australia/Sydney", "-33.86880", "151.20930"),
    "JNB": ("ZA", "Johannesburg", "Gauteng", "AF", "Africa/Johannesburg", "-26.20410", "28.04730"),
}

# colo: (regionCode, postalCode, metroCode); Cloudflare leaves out what it does not know for a visitor (metroCode,
# the US DMA code, exists only in the US; Hong Kong has no postal codes), and so do these.
_LOCAL: dict[str, tuple[str, str, str]] = {
    "SFO": ("CA", "94107", "807"),
    "IAD": ("VA", "20147", "511"),
    "LAX": ("CA", "90012", "803"),
    "ORD": ("IL", "60601", "602"),
    "DFW": ("TX", "75201", "623"),
    "EWR": ("NJ", "07102", "501"),
    "YYZ": ("ON", "M5H", ""),
    "GRU": ("SP", "01000-000", ""),
    "LHR": ("ENG", "EC1A", ""),
    "FRA": ("HE", "60311", ""),
    "CDG": ("IDF", "75001", ""),
    "AMS": ("NH", "1012", ""),
    "MAD": ("MD", "28013", ""),
    "SIN": ("", "018956", ""),
    "NRT": ("13", "100-0001", ""),
    "HKG": ("", "", ""),
    "BOM": ("MH", "400001", ""),
    "SYD": ("NSW", "2000", ""),
    "JNB": ("GP", "2001", ""),
}
_EU = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)  # fmt: skip


def cf_properties(edge: str, index: int, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``request.cf`` for a visitor served by ``edge`` (the ``index``-th edge), with ``overrides`` applied."""
    country, city, region, continent, timezone, latitude, longitude = _PLACES.get(
        edge.upper(), ("XX", "", "", "", "UTC", "0.00000", "0.00000")
    )
    properties: dict[str, Any] = {
        "colo": edge,
        "country": country,
        "city": city,
        "region": region,
        "continent": continent,
        "timezone": timezone,
        "latitude": latitude,
        "longitude": longitude,
        "asn": 64496 + index % 16,  # documentation ASNs (RFC 5398)
        "asOrganization": "Example Network",
        "httpProtocol": "HTTP/2",
        "tlsVersion": "TLSv1.3",
        "tlsCipher": "AEAD-AES128-GCM-SHA256",
        "clientTcpRtt": 10,
        "edgeRequestKeepAliveStatus": 1,
    }
    local = zip(("regionCode", "postalCode", "metroCode"), _LOCAL.get(edge.upper(), ("", "", "")), strict=True)
    properties.update((name, value) for name, value in local if value)
    properties.update(overrides or {})
    # Present only for a visitor from the EU, as on Cloudflare: it follows a country given in overrides too.
    if "isEUCountry" not in (overrides or {}) and properties["country"] in _EU:
        properties["isEUCountry"] = "1"
    return properties


@functools.lru_cache(maxsize=1024)
def edge_headers(index: int, country: str, scheme: str) -> tuple[tuple[str, str], ...]:
    """The headers Cloudflare adds to a request at the ``index``-th edge from a visitor in ``country``, as
    ``(name, value)`` fields checked once (the same few come back on every request); a request keeps those it
    already carries (``Headers._extend_absent``)."""
    added = Headers(
        {
            "cf-connecting-ip": f"203.0.113.{10 + index % 240}",
            "cf-ipcountry": country,
            "x-forwarded-proto": scheme,
            "cf-visitor": f'{{"scheme":"{scheme}"}}',
        }
    )
    return tuple(added.multi_items())


def visitor_country(cf: Mapping[str, Any]) -> str:
    """The ``CF-IPCountry`` header's value for a request with ``cf`` properties."""
    return str(cf["country"] if "country" in cf else "XX")
