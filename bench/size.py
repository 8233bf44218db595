"""Size of what is deployed.

When ``dist/smsverify.zip`` exists (``make package``), its size and the sum of
its members' uncompressed sizes. Otherwise the runtime closure measured from
this virtualenv: the distributions named in requirements.txt and everything
they require (markers evaluated for this interpreter, extras left out), file
sizes from each distribution's RECORD without ``.pyc`` files, plus
``src/smsverify`` and ``handler.py``; the zip size is then estimated by
deflating those files in memory.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from _parts import ROOT

PACKAGE = ROOT / "dist" / "smsverify.zip"


@dataclass
class Size:
    source: str
    zip_bytes: int
    unpacked_bytes: int
    files: int
    #: (distribution, unpacked bytes), largest first (closure mode only)
    largest: list[tuple[str, int]] = field(default_factory=list)
    estimated_zip: bool = False


def measure() -> Size:
    if PACKAGE.exists():
        with zipfile.ZipFile(PACKAGE) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
        return Size(
            source=f"{PACKAGE.relative_to(ROOT)} (built {_mtime(PACKAGE)}; `make package`)",
            zip_bytes=PACKAGE.stat().st_size,
            unpacked_bytes=sum(m.file_size for m in members),
            files=len(members),
        )
    return _closure()


def _mtime(path: Path) -> str:
    return f"{datetime.datetime.fromtimestamp(path.stat().st_mtime).astimezone():%Y-%m-%d %H:%M %Z}"


def _requirement_names() -> list[str]:
    names = []
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.match(r"[A-Za-z0-9._-]+", line).group(0))
    return names


def _closure() -> Size:
    from packaging.requirements import Requirement

    pending, seen = _requirement_names(), {}
    while pending:
        name = pending.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        dist = metadata.distribution(name)
        seen[key] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)

    files: list[Path] = []
    per_dist: list[tuple[str, int]] = []
    for key, dist in seen.items():
        paths = [Path(dist.locate_file(f)) for f in dist.files or [] if f.suffix != ".pyc"]
        paths = [p for p in paths if p.is_file() and "site-packages" in p.parts]
        files += paths
        per_dist.append((dist.metadata["Name"], sum(p.stat().st_size for p in paths)))
    own = [p for p in (ROOT / "src" / "smsverify").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    own.append(ROOT / "handler.py")
    files += own
    per_dist.append(("smsverify (src/smsverify, handler.py)", sum(p.stat().st_size for p in own)))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, path in enumerate(files):
            archive.write(path, f"{index}/{path.name}")
    return Size(
        source=f"runtime closure of requirements.txt in this venv ({len(seen)} distributions) + smsverify; no dist/smsverify.zip",
        zip_bytes=len(buffer.getvalue()),
        unpacked_bytes=sum(size for _, size in per_dist),
        files=len(files),
        largest=sorted(per_dist, key=lambda item: item[1], reverse=True),
        estimated_zip=True,
    )
