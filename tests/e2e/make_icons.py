"""Draw the PWA icons (two overlapping circles: the space between sessions).

Pure Python (zlib + struct), no downloads: `python -m tests.e2e.make_icons` writes
pwa/icons/icon-192.png, icon-512.png and maskable-512.png. The SVG icon is hand-written.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

ICONS = Path(__file__).resolve().parents[2] / "pwa" / "icons"
BG = (61, 90, 88)
LEFT = (247, 245, 240)
RIGHT = (233, 196, 176)
OVERLAP = (181, 82, 59)


def _png(width: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 6, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _cover(d: float, r: float) -> float:
    """Anti-aliased coverage of a pixel at distance d from a circle of radius r."""
    return max(0.0, min(1.0, r - d + 0.5))


def _mix(a, b, t):
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def draw(size: int, *, maskable: bool) -> bytes:
    scale = 0.72 if maskable else 1.0  # maskable: keep the drawing in the safe zone
    corner = 0 if maskable else size * 0.22
    r = size * 0.22 * scale
    cy = size / 2
    cx1, cx2 = size / 2 - r * 0.55, size / 2 + r * 0.55
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            px, py = x + 0.5, y + 0.5
            # rounded-square background
            dx = max(corner - px, 0, px - (size - corner))
            dy = max(corner - py, 0, py - (size - corner))
            alpha = _cover((dx * dx + dy * dy) ** 0.5, corner) if corner else 1.0
            a = _cover(((px - cx1) ** 2 + (py - cy) ** 2) ** 0.5, r)
            b = _cover(((px - cx2) ** 2 + (py - cy) ** 2) ** 0.5, r)
            colour = _mix(BG, LEFT, a)
            colour = _mix(colour, RIGHT, b * (1 - a))
            colour = _mix(colour, OVERLAP, a * b)
            row += bytes(colour) + bytes([round(alpha * 255)])
        rows.append(bytes(row))
    return _png(size, rows)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    (ICONS / "icon-192.png").write_bytes(draw(192, maskable=False))
    (ICONS / "icon-512.png").write_bytes(draw(512, maskable=False))
    (ICONS / "maskable-512.png").write_bytes(draw(512, maskable=True))


if __name__ == "__main__":
    main()
