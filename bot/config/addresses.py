"""A `host:port` an operator writes for a listener (DEPLOYBOT_METRICS_ADDR). Pure."""

from __future__ import annotations

import ipaddress
import re

from bot.commands.usage import ascii_int

OFF = frozenset({"", "off"})
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


def host_port(value: str) -> str:
    """`value` checked ("host:port", "[::1]:port", or "" / "off" for none): ValueError in words."""
    text = value.strip()
    if text.lower() in OFF:
        return ""
    split(text)
    return text


def split(text: str) -> tuple[str, int]:
    """("127.0.0.1", 9464) from "127.0.0.1:9464"; "[::1]:9464" gives ("::1", 9464)."""
    wrong = ValueError(
        f'"{text}" is not host:port, like "127.0.0.1:9464" or "[::1]:9464" ("off": none)'
    )
    host, colon, digits = text.rpartition(":")
    port = ascii_int(digits, digits=5)
    if not colon or port is None or not 0 < port < 65536:
        raise wrong
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if not _is_ip(host, version=6):
            raise wrong
    elif not (_is_ip(host, version=4) or _HOSTNAME.match(host)):
        raise wrong
    return host, port


def _is_ip(host: str, *, version: int) -> bool:
    try:
        return ipaddress.ip_address(host).version == version
    except ValueError:
        return False
