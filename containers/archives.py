"""What a ``docker save`` archive claims, read before the engine loads it.

``docker load`` moves every tag the archive carries, silently. To refuse an upload that would move a
tag to another image, the tags and the image id each belongs to are read from the archive's
``manifest.json`` first (the id is the digest of the image's config blob, which is what the engine
calls the image id).
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1024 * 1024
_CONFIG = re.compile(r"(?:^|/)(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json)?$")


class UnreadableArchive(ValueError):
    """Not a ``docker save`` tar, or one whose manifest can't be read."""


def claimed_tags(path: Path) -> dict[str, str]:
    """``{"name:tag": "sha256:<id>"}`` for every tag the archive would load."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            member = tar.getmember(MANIFEST)
            if not member.isfile() or member.size > MAX_MANIFEST_BYTES:
                raise UnreadableArchive(f"{MANIFEST} is not a small file")
            handle = tar.extractfile(member)
            manifest = json.loads(handle.read() if handle else b"")
    except (tarfile.TarError, KeyError, OSError, ValueError) as exc:
        if isinstance(exc, UnreadableArchive):
            raise
        raise UnreadableArchive(f"no readable {MANIFEST} ({type(exc).__name__})") from None
    if not isinstance(manifest, list):
        raise UnreadableArchive(f"{MANIFEST} is not a list")
    tags: dict[str, str] = {}
    for entry in manifest:
        config = str(entry.get("Config", "")) if isinstance(entry, dict) else ""
        match = _CONFIG.search(config)
        if not match:
            raise UnreadableArchive(f"{MANIFEST} names no image config")
        for tag in entry.get("RepoTags") or []:
            tags[str(tag)] = f"sha256:{match.group(1)}"
    return tags
