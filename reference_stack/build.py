#!/usr/bin/env python3
"""Build the Lambda deployment package: pinned manylinux wheels + the handler, zipped reproducibly.

    python3 reference_stack/build.py                      # arm64, Python 3.12 (the template)
    python3 reference_stack/build.py --arch x86_64 --output /tmp/function.zip

Dependencies come only from binary wheels for the Lambda platform (``--only-binary=:all:``),
so the build works on any host OS/architecture and never compiles anything, and only wheels
whose sha256 is pinned in requirements.txt are accepted (``--require-hashes``). The zip is
deterministic: sorted entries, fixed timestamps and permissions, no ``__pycache__``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
HANDLER_DIR = HERE / "handler"
PACKAGE = "thumbnailer"
DEFAULT_OUTPUT = HERE / "build" / "function.zip"
DEFAULT_PYTHON = "3.12"  # keep in step with Runtime in template.yaml
PLATFORMS = {"arm64": "manylinux_2_28_aarch64", "x86_64": "manylinux_2_28_x86_64"}
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
EXCLUDED_DIRS = {"__pycache__"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


class BuildError(RuntimeError):
    """pip failed or the package is unusable; ``output`` holds pip's messages."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


def host_arch() -> str:
    """The Lambda architecture name of this machine (for builds that must import here)."""
    import platform

    machine = platform.machine().lower()
    return "arm64" if machine in {"aarch64", "arm64"} else "x86_64"


def install_requirements(target: Path, requirements: Path, arch: str, python_version: str) -> None:
    """pip-install pinned wheels for the Lambda platform into ``target``."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--no-compile",
        "--only-binary=:all:",
        "--require-hashes",
        "--no-deps",
        "--platform",
        PLATFORMS[arch],
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"pip install failed ({result.returncode})", result.stdout + result.stderr)


def copy_handler(source: Path, target: Path) -> None:
    shutil.copytree(
        source / PACKAGE,
        target / PACKAGE,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"),
    )


def iter_files(root: Path) -> list[Path]:
    files = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS)
        for name in sorted(filenames):
            path = Path(directory) / name
            if path.suffix not in EXCLUDED_SUFFIXES:
                files.append(path)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def make_zip(root: Path, output: Path) -> Path:
    """Zip ``root`` reproducibly: same inputs, byte-identical archive."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(output.suffix + ".partial")
    total = 0
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in iter_files(root):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below are honoured
            mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            info.external_attr = (0o100000 | mode) << 16
            data = path.read_bytes()
            total += len(data)
            archive.writestr(info, data, compresslevel=6)
    if total > LAMBDA_UNZIPPED_LIMIT:
        partial.unlink()
        raise BuildError(f"unzipped size {total} exceeds Lambda's 250 MB limit")
    partial.replace(output)
    return output


def build(
    output: Path = DEFAULT_OUTPUT,
    *,
    arch: str = "arm64",
    python_version: str = DEFAULT_PYTHON,
    requirements: Path = HANDLER_DIR / "requirements.txt",
    handler_dir: Path = HANDLER_DIR,
) -> Path:
    if arch not in PLATFORMS:
        raise BuildError(f"unknown arch {arch!r}; choose from {sorted(PLATFORMS)}")
    with tempfile.TemporaryDirectory(prefix="lambda-build-") as staging_name:
        staging = Path(staging_name)
        install_requirements(staging, requirements, arch, python_version)
        copy_handler(handler_dir, staging)
        return make_zip(staging, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    parser.add_argument(
        "--host-arch", action="store_true", help="build for this machine's architecture"
    )
    parser.add_argument("--python-version", default=DEFAULT_PYTHON)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--requirements", type=Path, default=HANDLER_DIR / "requirements.txt")
    args = parser.parse_args(argv)
    arch = host_arch() if args.host_arch else args.arch
    try:
        output = build(
            args.output,
            arch=arch,
            python_version=args.python_version,
            requirements=args.requirements,
        )
    except BuildError as exc:
        print(f"build failed: {exc}\n{exc.output}", file=sys.stderr)
        return 1
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    size = output.stat().st_size
    print(f"{output} arch={arch} python={args.python_version} bytes={size} sha256={digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
