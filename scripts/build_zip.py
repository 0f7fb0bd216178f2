"""Write a reproducible zip of a folder: the same files give a byte-identical archive.

    python scripts/build_zip.py STAGING_DIR OUTPUT.zip

Leaves out pip's per-install records.

Entries are sorted by path, every timestamp is 1980-01-01 00:00:00, permissions are fixed
(files 0644, folders 0755, created on "Unix"), data is deflated at level 9 and no extra fields
are written, so nothing of the build machine (mtimes, umask, owner, file order) leaks in.
Prints the path, the size and the sha256 (hex, and base64 as Terraform's filebase64sha256 and
Lambda's CodeSha256 give it).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import stat
import sys
import zipfile
from pathlib import Path

EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = stat.S_IFREG | 0o644
DIR_MODE = stat.S_IFDIR | 0o755
MSDOS_DIRECTORY = 0x10
UNIX = 3


class BuildError(Exception):
    pass


# pip's per-install records: they describe this build machine's install, not the package.
INSTALL_RECORDS = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")


def trim(root: Path) -> None:
    """Delete pip's per-install records."""
    for info in sorted(root.glob("*.dist-info")):
        for name in INSTALL_RECORDS:
            (info / name).unlink(missing_ok=True)


def collect(root: Path) -> tuple[list[str], list[str]]:
    """Return (folders, files) under ``root`` as sorted POSIX paths relative to it."""
    folders: list[str] = []
    files: list[str] = []
    for current, dirnames, filenames in os.walk(root):
        dirnames.sort()
        here = Path(current)
        for name in dirnames:
            path = here / name
            if path.is_symlink():
                raise BuildError(f"symbolic link in the package: {path}")
            folders.append(path.relative_to(root).as_posix() + "/")
        for name in filenames:
            path = here / name
            if path.is_symlink() or not path.is_file():
                raise BuildError(f"not a regular file: {path}")
            files.append(path.relative_to(root).as_posix())
    return sorted(folders), sorted(files)


def entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.create_system = UNIX
    info.external_attr = mode << 16
    info.extra = b""
    info.comment = b""
    return info


def write_zip(root: Path, output: Path) -> None:
    folders, files = collect(root)
    if not files:
        raise BuildError(f"nothing to package in {root}")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name in sorted(folders + files):
            if name.endswith("/"):
                info = entry(name, DIR_MODE)
                info.external_attr |= MSDOS_DIRECTORY
                info.compress_type = zipfile.ZIP_STORED
                archive.writestr(info, b"")
            else:
                info = entry(name, FILE_MODE)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, (root / name).read_bytes(), compresslevel=9)
    partial.replace(output)


def describe(output: Path) -> str:
    data = output.read_bytes()
    digest = hashlib.sha256(data)
    return (
        f"package: {output}\n"
        f"size:    {len(data)} bytes ({len(data) / 1024:.1f} KB)\n"
        f"sha256:  {digest.hexdigest()}\n"
        f"base64:  {base64.b64encode(digest.digest()).decode()}"
        "  (Terraform filebase64sha256 / Lambda CodeSha256)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a reproducible zip of a folder.")
    parser.add_argument("source", type=Path, help="folder whose contents become the zip's root")
    parser.add_argument("output", type=Path, help="zip file to write (replaced if present)")
    args = parser.parse_args(argv)
    source: Path = args.source
    output: Path = args.output
    if not source.is_dir():
        print(f"build_zip: error: not a folder: {source}", file=sys.stderr)
        return 2
    try:
        trim(source)
        write_zip(source, output)
    except (BuildError, OSError) as exc:
        print(f"build_zip: error: {exc}", file=sys.stderr)
        return 1
    print(describe(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
