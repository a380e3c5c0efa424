"""The deployment zip: built by pip from pinned manylinux wheels, reproducible, importable.

Two builds are made once per test session (conftest.py; each needs PyPI, or pip's cache,
for the wheels; the stack test deploys the first):

* the Lambda target of the template (arm64, CPython 3.12): checked for the right binaries,
  the pinned Pillow, the handler modules and reproducibility;
* the same requirements for *this* host's architecture and Python, so that the archive's
  own Pillow (compiled extension included) can really be imported and run here: an
  aarch64 / cp312 extension cannot be loaded by an x86_64 / cp311 interpreter.

If pip cannot download the wheels the tests are skipped with pip's reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

from refstack_support import load_build_module, pinned_pillow

ELF_MACHINES = {"arm64": 0xB7, "x86_64": 0x3E}


def test_pillow_pin_is_patched() -> None:
    version = tuple(int(part) for part in pinned_pillow().split(".")[:3])
    assert version >= (12, 2, 0)  # CVE-2026-40192


def test_lambda_zip_contents(lambda_zip: Path) -> None:
    with zipfile.ZipFile(lambda_zip) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == sorted(names)
        assert {
            "thumbnailer/__init__.py",
            "thumbnailer/app.py",
            "thumbnailer/imaging.py",
            "thumbnailer/config.py",
            "thumbnailer/observability.py",
            "thumbnailer/aws.py",
        } <= set(names)
        assert f"pillow-{pinned_pillow()}.dist-info/METADATA" in names
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        assert not [n for n in names if n.startswith(("boto3/", "botocore/"))]  # runtime has them
        assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
        extensions = [n for n in names if n.endswith(".so") and n.startswith("PIL/_imaging.")]
        assert extensions == ["PIL/_imaging.cpython-312-aarch64-linux-gnu.so"]
        header = archive.read(extensions[0])[:20]
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[18:20], "little") == ELF_MACHINES["arm64"]
    assert lambda_zip.stat().st_size < 50 * 1024 * 1024  # direct-upload limit


def test_zip_is_reproducible(lambda_zip: Path, tmp_path: Path) -> None:
    """Same files, other mtimes and directory order: byte-identical archive.

    (Two complete builds were compared byte for byte when this was written; re-zipping the
    unpacked files tests the archive normalisation without a second download.)
    """
    build = load_build_module()
    root = tmp_path / "unpacked"
    with zipfile.ZipFile(lambda_zip) as archive:
        for info in reversed(archive.infolist()):  # other creation order
            path = Path(archive.extract(info, root))
            path.chmod((info.external_attr >> 16) & 0o777)
            os.utime(path, (1_700_000_000, 1_700_000_000 + len(info.filename)))
    again = build.make_zip(root, tmp_path / "again.zip")
    digest = hashlib.sha256
    assert digest(again.read_bytes()).digest() == digest(lambda_zip.read_bytes()).digest()


IMPORT_CHECK = r"""
import io, json, sys
root = sys.argv[1]
sys.path.insert(0, root)
import PIL
from PIL import Image
from thumbnailer.app import handler
from thumbnailer.imaging import make_thumbnail
assert PIL.__file__.startswith(root), PIL.__file__
image = Image.new("RGB", (1200, 900), (200, 10, 10))
buffer = io.BytesIO()
image.save(buffer, "JPEG")
thumb = make_thumbnail(buffer.getvalue(), size=256, max_pixels=10_000_000)
out = Image.open(io.BytesIO(thumb.data))
print(json.dumps({"pil": PIL.__version__, "pil_file": PIL.__file__,
                  "size": list(out.size), "format": out.format,
                  "handler": callable(handler)}))
"""


def test_handler_imports_and_runs_from_the_zip(host_zip: Path, tmp_path: Path) -> None:
    """Unpacked like Lambda does, the archive's own Pillow renders a thumbnail."""
    root = tmp_path / "task"
    with zipfile.ZipFile(host_zip) as archive:
        archive.extractall(root)
    result = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_CHECK, str(root)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {
        "pil": pinned_pillow(),
        "pil_file": str(root / "PIL" / "__init__.py"),
        "size": [256, 192],
        "format": "WEBP",
        "handler": True,
    }
    machine = platform.machine().lower()
    tag = "aarch64" if machine in {"aarch64", "arm64"} else machine
    assert list(root.glob(f"PIL/_imaging.cpython-3*-{tag}-linux-gnu.so"))
