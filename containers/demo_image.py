"""The demo image: built locally FROM scratch with Debian's static busybox (``busybox httpd`` serves
HTTP), since these machines cannot pull from a public registry."""

from __future__ import annotations

import hashlib
import shutil
import struct
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction

from containers import engine, images
from containers.models import Image, record

DEMO_CONTEXT = Path(__file__).resolve().parent / "demo"
BUSYBOX = Path("/bin/busybox")
BUSYBOX_PACKAGE = "busybox-static"


class DemoImageUnavailable(Exception):
    """The demo image cannot be built here: Debian's static busybox is missing."""


def is_static_elf(path: Path) -> bool:
    """True for an ELF executable without a program interpreter (PT_INTERP): statically linked."""
    with path.open("rb") as fh:
        ident = fh.read(16)
        if len(ident) < 16 or ident[:4] != b"\x7fELF":
            return False
        order = "<" if ident[5] == 1 else ">"
        # Offsets of e_phoff and of (e_phentsize, e_phnum) in the 64- and the 32-bit header.
        phoff_at, phoff_format, sizes_at = (0x20, "Q", 0x36) if ident[4] == 2 else (0x1C, "I", 0x2A)
        fh.seek(phoff_at)
        (phoff,) = struct.unpack(order + phoff_format, fh.read(struct.calcsize(phoff_format)))
        fh.seek(sizes_at)
        phentsize, phnum = struct.unpack(order + "HH", fh.read(4))
        for index in range(phnum):
            fh.seek(phoff + index * phentsize)
            (p_type,) = struct.unpack(order + "I", fh.read(4))
            if p_type == 3:  # PT_INTERP: needs the dynamic loader, which a scratch image lacks
                return False
    return True


def check_busybox(path: Path = BUSYBOX) -> None:
    """Raise :class:`DemoImageUnavailable`, naming the package, unless ``path`` is a static busybox."""
    hint = f"install Debian's {BUSYBOX_PACKAGE} package (apt-get install -y {BUSYBOX_PACKAGE})"
    if not path.is_file():
        raise DemoImageUnavailable(f"{path} is missing, so the demo image cannot be built: {hint}")
    if not is_static_elf(path):
        raise DemoImageUnavailable(
            f"{path} is not statically linked (the dynamic 'busybox' package?), so it cannot run in a "
            f"FROM scratch image: {hint}"
        )


# Names the demo image's recipe; an engine holding a build of another recipe gets it rebuilt.
DEMO_REVISION_LABEL = "org.orchestrator.demo.revision"


def demo_revision() -> str:
    """A digest of the files in ``containers/demo``: it changes whenever the recipe does."""
    digest = hashlib.sha256()
    for item in sorted(DEMO_CONTEXT.iterdir()):
        if item.is_file():
            digest.update(item.name.encode() + b"\0" + item.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_demo_image(reference: str) -> engine.ImageInfo:
    """Build the demo image from ``containers/demo`` plus the host's static busybox."""
    check_busybox()
    with tempfile.TemporaryDirectory(prefix="orchestrator-demo-") as tmp:
        context = Path(tmp)
        for item in DEMO_CONTEXT.iterdir():
            if item.is_file():
                shutil.copy2(item, context / item.name)
        shutil.copy2(BUSYBOX, context / "busybox")
        return engine.build_image(context, reference, labels={DEMO_REVISION_LABEL: demo_revision()})


def ensure_demo_image(actor: str) -> Image:
    """``settings.DEMO_IMAGE`` on the engine (built if missing or of an older recipe) and its row;
    cheap when both exist."""
    reference = settings.DEMO_IMAGE
    try:
        info = engine.inspect_image(reference)
        built = False
    except engine.ImageNotFound:
        info = build_demo_image(reference)
        built = True
    if not built and info.labels.get(DEMO_REVISION_LABEL) != demo_revision():
        info = build_demo_image(reference)
        built = True
    with transaction.atomic():
        image = images.upsert(reference, info, Image.Source.BUILD)
        if built:
            record(
                "image.built",
                actor=actor,
                message=f"built the demo image {reference}",
                after={"reference": reference, "docker_id": info.id, "size_bytes": info.size_bytes},
            )
    return image
