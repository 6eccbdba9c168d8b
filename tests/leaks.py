"""Finding what a test left open: sockets of this process, and asyncio tasks still pending."""

from __future__ import annotations

import os
import socket
from pathlib import Path

_FD_DIR = Path("/proc/self/fd")


def open_sockets() -> dict[int, str]:
    """Socket inode -> a description (its peer where the kernel knows it), for every socket this
    process holds open. Empty where /proc is not available."""
    inodes: set[int] = set()
    if not _FD_DIR.is_dir():
        return {}
    for entry in os.scandir(_FD_DIR):
        try:
            target = os.readlink(entry.path)
        except OSError:
            continue  # closed between listing and reading
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    peers = _tcp_peers()
    return {inode: peers.get(inode, "a socket") for inode in inodes}


def _tcp_peers() -> dict[int, str]:
    peers: dict[int, str] = {}
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], int(fields[9])
            peers[inode] = f"tcp {_address(local, family)} -> {_address(remote, family)}"
    return peers


def _address(hex_address: str, family: int) -> str:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    # The kernel prints each 32-bit word little-endian: one word for IPv4, four for IPv6.
    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return f"{socket.inet_ntop(family, raw)}:{int(port, 16)}"
