"""The API poller's deployment package: a reproducible zip and the content hash the stack deploys by.

The zip holds the Function project at its root (function_app.py, host.json,
requirements.txt) plus the `producers` package it imports; dependencies are
installed by the platform's remote build. Entries have fixed timestamps and
order, so the same sources give the same bytes and the same hash.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOT_FILES = ("function_app.py", "host.json", "requirements.txt")
_EPOCH = (1980, 1, 1, 0, 0, 0)


def package_files(repo: Path = REPO) -> list[tuple[Path, str]]:
    app = repo / "producers" / "api_poller"
    files = [(app / name, name) for name in ROOT_FILES]
    skip = {app / "function_app.py", app / "__main__.py", repo / "producers" / "package.py"}
    for source in sorted((repo / "producers").rglob("*.py")):
        if "__pycache__" in source.parts or source in skip:
            continue
        files.append((source, source.relative_to(repo).as_posix()))
    return files


def content_hash(repo: Path = REPO) -> str:
    """sha256 over every packaged file's zip path and bytes: changes exactly when the package does."""
    digest = hashlib.sha256()
    for source, arcname in package_files(repo):
        digest.update(arcname.encode())
        digest.update(b"\0")
        digest.update(source.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def build(out_dir: Path, repo: Path = REPO) -> Path:
    """Write out_dir/api-poller-<hash12>.zip (if not there yet) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"api-poller-{content_hash(repo)[:12]}.zip"
    if target.exists():
        return target
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for source, arcname in package_files(repo):
            info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, source.read_bytes())
    tmp.replace(target)
    return target


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "out/packages")))
