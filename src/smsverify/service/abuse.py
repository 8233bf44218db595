"""Who a request comes from and where it sends to, as keys for the abuse limits.

A client is the network it can cheaply change addresses within: one IPv4
address, or one IPv6 prefix of ``IPV6_PREFIX_LENGTH`` bits (64 by default:
RFC 4291 section 2.5.4 gives every IPv6 subnet a /64, so one subscriber owns
at least 2^64 addresses). Every request without a usable client IP belongs to
one shared client, :data:`UNKNOWN_CLIENT`.

A destination prefix is the country calling code plus the first
``PREFIX_DIGITS`` national digits (for +86 mobiles, 7 digits are the number
block a carrier allots: 3-digit network code + 4-digit HLR code), the unit in
which SMS-pumping fraud picks its premium ranges.
"""

from __future__ import annotations

import ipaddress

from smsverify.service.phone import Phone
from smsverify.store.keys import UNKNOWN_CLIENT

__all__ = ["UNKNOWN_CLIENT", "client_key", "destination_prefix"]



def client_key(ip: str | None, ipv6_prefix_length: int = 64) -> str:
    """The limit key of a client IP: ``"203.0.113.7"``, ``"2001:db8:1:2::/64"``, or :data:`UNKNOWN_CLIENT`.

    An IPv4-mapped IPv6 address (``::ffff:203.0.113.7``) is its IPv4 address.
    """
    if not ip:
        return UNKNOWN_CLIENT
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return UNKNOWN_CLIENT
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, ipv6_prefix_length), strict=False))
    return str(address)


def destination_prefix(phone: Phone, digits: int = 7) -> str:
    """The number block of ``phone``: ``"86:1380013"`` for +86 138 0013 8000 with 7 digits."""
    return f"{phone.country_code}:{phone.national_number[:digits]}"
