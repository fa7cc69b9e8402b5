"""The manifest of a backup: what it holds, the sha256 of every file, and a checksum of the
manifest itself, so an edited manifest is found before anything is restored from it.

App-free: plain files and JSON.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kb.backup import BackupError

MANIFEST = "manifest.json"
FORMAT = "frontline-kb-backup"
FORMAT_VERSION = 1
# Where each database's copy sits in the folder.
DATABASE_FILES = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
CONTENT_DIR = "content"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in chunks (a database can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_hashes(folder: Path) -> dict[str, str]:
    """Relative path (with /) -> sha256 of every file under ``folder`` but the manifest."""
    return {
        path.relative_to(folder).as_posix(): sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.relative_to(folder).as_posix() != MANIFEST
    }


def checksum(manifest: dict) -> str:
    """The sha256 of the manifest's canonical JSON, leaving out its own checksum."""
    body = {key: value for key, value in manifest.items() if key != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write(folder: Path, manifest: dict) -> Path:
    """Add the files' sha256s and the checksum, and write ``manifest.json`` into ``folder``."""
    manifest = dict(manifest, format=FORMAT, format_version=FORMAT_VERSION,
                    files=file_hashes(folder))
    manifest["checksum"] = checksum(manifest)
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def read_verified(folder: Path) -> dict:
    """The manifest of the backup in ``folder``, once it and every file it lists are whole.

    Raises BackupError naming the first problem: no manifest, a manifest edited by hand, a
    file missing, or a file whose sha256 differs (changed or damaged since the backup).
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} holds no {MANIFEST}: it is not a backup, or an "
                          "incomplete one.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupError(f"{path} cannot be read as a manifest ({error}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not the manifest of a Frontline KB backup.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path} is in backup format {manifest.get('format_version')!r}; "
                          f"this version of the app reads format {FORMAT_VERSION}.")
    if manifest.get("checksum") != checksum(manifest):
        raise BackupError(f"{path} was changed after the backup was written (its checksum "
                          "does not match): refusing to restore from it.")
    shapes = {"database": dict, "tables": dict, "chains": dict, "files": dict,
              "created_at": str, "alembic_revision": str}
    for key, shape in shapes.items():
        if not isinstance(manifest.get(key), shape):
            raise BackupError(f"{path} has no valid {key!r}: refusing to restore from it.")
    files = manifest["files"]
    kind = manifest["database"].get("kind")
    if DATABASE_FILES.get(kind) not in files or manifest["database"].get("file") != (
            DATABASE_FILES.get(kind)):
        raise BackupError(f"{path} lists no database file: refusing to restore from it.")
    for name, expected in sorted(files.items()):
        member = folder / name
        if not member.resolve().is_relative_to(folder.resolve()):
            raise BackupError(f"{path} names a file outside the backup ({name}).")
        if not member.is_file():
            raise BackupError(f"{member} is missing: the backup is incomplete.")
        if sha256_file(member) != expected:
            raise BackupError(f"{member} does not match its sha256 in the manifest: it was "
                              "changed or damaged after the backup.")
    return manifest
