"""Who a request comes from and where it sends to, as keys for the abuse limits.

A client is the network it can cheaply change addresses within: one IPv4
address, or one IPv6 prefix of ``IPV6_PREFIX_LENGTH`` bits (64 by default:
RFC 4291 section 2.5.4 gives every IPv6 subnet a /64, so one subscriber owns
at least 2^64 addresses). An IPv6 client also belongs to a *site*, its
/``IPV6_SITE_PREFIX_LENGTH`` (48 by default: RFC 6177 and RIPE-690 advise
giving a site a /48 to /56), whose own send quota bounds a holder of many /64s.

Addresses that carry an IPv4 address count as that IPv4 client (Python's
:mod:`ipaddress` decodes them): IPv4-mapped (``::ffff:a.b.c.d``, RFC 4291
section 2.5.5.2), 6to4 (``2002::/16``, RFC 3056: the host's IPv4 address in
bits 16-47), NAT64's well-known prefix (``64:ff9b::/96``, RFC 6052: the IPv4
address in the last 32 bits) and Teredo (``2001::/32``, RFC 4380: the client's
public IPv4 address, obfuscated, in the last 32 bits; a Teredo client is its
NAT's public IPv4 address, the same bucket as that network's IPv4 users).
Every request without a usable client IP belongs to one shared client,
:data:`UNKNOWN_CLIENT`.

A destination prefix is the country calling code plus the first
``PREFIX_DIGITS`` national digits (for +86 mobiles, 7 digits are the number
block a carrier allots: 3-digit network code + 4-digit HLR code), the unit in
which SMS-pumping fraud picks its premium ranges.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import NamedTuple

from smsverify.service.phone import Phone
from smsverify.store.base import UNKNOWN_CLIENT

__all__ = ["UNKNOWN_CLIENT", "Client", "client_of", "destination_prefix"]

#: NAT64's well-known prefix (RFC 6052 section 2.1).
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class Client(NamedTuple):
    """The limit keys of one request's client."""

    #: an IPv4 address, an IPv6 /``IPV6_PREFIX_LENGTH``, or :data:`UNKNOWN_CLIENT`
    key: str
    #: the IPv6 /``IPV6_SITE_PREFIX_LENGTH`` (``None``: an IPv4 client or no IP)
    site: str | None = None

    @property
    def known(self) -> bool:
        """Whether the request carried a usable client IP."""
        return self.key != UNKNOWN_CLIENT


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


@lru_cache(maxsize=4096)
def client_of(ip: str | None, ipv6_prefix_length: int = 64, site_prefix_length: int = 48) -> Client:
    """The :class:`Client` of a client IP: ``Client("203.0.113.7")``,
    ``Client("2001:db8:1:2::/64", "2001:db8:1::/48")`` or ``Client(UNKNOWN_CLIENT)``.

    ``site_prefix_length`` is clamped to at most ``ipv6_prefix_length``. Cached: a warm
    container sees the same clients again.
    """
    if not ip:
        return Client(UNKNOWN_CLIENT)
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return Client(UNKNOWN_CLIENT)
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return Client(str(embedded))
        network = ipaddress.IPv6Network((address, ipv6_prefix_length), strict=False)
        site = ipaddress.IPv6Network((address, min(site_prefix_length, ipv6_prefix_length)), strict=False)
        return Client(str(network), str(site))
    return Client(str(address))


def destination_prefix(phone: Phone, digits: int = 7) -> str:
    """The number block of ``phone``: ``"86:1380013"`` for +86 138 0013 8000 with 7 digits."""
    return f"{phone.country_code}:{phone.national_number[:digits]}"
