#!/usr/bin/env python3
"""Thumbnail throughput and peak memory for a 12-megapixel JPEG, with and without draft mode.

    python3 bench/thumbnail_bench.py [--iterations 8] [--size 256]
    python3 bench/thumbnail_bench.py --memory [--megapixels 10 20]   # peak MiB per megapixel

``--memory`` renders one image per kind (RGBA PNG, RGB PNG, GIF, WebP, JPEG with and without
draft) at each size, each in a fresh process, and prints the peak RSS growth of the render
and its slope in MiB per megapixel: the figure ``PEAK_BYTES_PER_PIXEL`` in
``reference_stack/handler/thumbnailer/imaging.py`` must stay above.

Runs the reference handler's own ``make_thumbnail`` (reference_stack/handler) on a generated
4000x3000 photo-like JPEG. Each mode runs in a fresh subprocess so that its peak resident
set size is its own: ``VmHWM`` from /proc/self/status (a new address space starts at zero,
unlike ``ru_maxrss``, which Linux carries over from the parent across fork+exec), falling
back to ``ru_maxrss`` elsewhere. RSS includes Pillow's C buffers, which tracemalloc cannot
see. "decode +MiB" is the peak minus the RSS measured just before the first decode.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLER_DIR = Path(os.environ.get("THUMBNAIL_HANDLER_DIR", ROOT / "reference_stack" / "handler"))
WIDTH, HEIGHT = 4000, 3000
MODES = {"draft": True, "no-draft": False}
#: --memory kinds: (file format, Pillow mode, draft)
KINDS = {
    "png-rgba": ("PNG", "RGBA", True),
    "png-rgb": ("PNG", "RGB", True),
    "png-grey16": ("PNG", "I", True),
    "gif": ("GIF", "P", True),
    "webp-rgba": ("WEBP", "RGBA", True),
    "jpeg-draft": ("JPEG", "RGB", True),
    "jpeg-no-draft": ("JPEG", "RGB", False),
}


def make_photo(path: Path) -> int:
    """A noisy gradient: compresses like a photo (a flat colour would flatter the decoder)."""
    from PIL import Image

    noise = Image.effect_noise((WIDTH, HEIGHT), 16)
    red = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    blue = red.transpose(Image.Transpose.ROTATE_90).resize((WIDTH, HEIGHT))
    image = Image.merge("RGB", (red, noise, blue))
    image.save(path, "JPEG", quality=90)
    return path.stat().st_size


def make_kind(path: Path, kind: str, megapixels: float) -> None:
    """A noisy image of ``kind`` with about ``megapixels`` million pixels, 4:3."""
    from PIL import Image

    fmt, mode, _ = KINDS[kind]
    height = int((megapixels * 1e6 * 3 / 4) ** 0.5)
    width = int(megapixels * 1e6 / height)
    noise = Image.effect_noise((width, height), 32)
    gradient = Image.linear_gradient("L").resize((width, height))
    bands = {"RGBA": (gradient, noise, gradient, noise), "RGB": (gradient, noise, noise)}
    if mode == "I":  # saved as a 16-bit greyscale PNG
        image = noise.convert("I").point(lambda value: value * 256).convert("I;16")
    elif mode == "P":
        image = Image.merge("RGB", (gradient, noise, noise)).quantize(64)
    else:
        image = Image.merge(mode, bands[mode])
    params: dict[str, object] = {
        "PNG": {"compress_level": 1},
        "WEBP": {"quality": 60, "method": 0},
    }.get(fmt, {})
    image.save(path, fmt, **params)


def memory_child(image_path: Path, kind: str, size: int) -> None:
    sys.path.insert(0, str(HANDLER_DIR))
    from thumbnailer.imaging import make_thumbnail

    data = image_path.read_bytes()
    baseline, _ = memory_mib()
    make_thumbnail(data, size=size, max_pixels=178_956_970, use_draft=KINDS[kind][2])
    _, peak = memory_mib()
    print(json.dumps({"kind": kind, "baseline_mib": baseline, "peak_mib": peak}))


def run_memory(megapixels: list[float], size: int) -> int:
    import PIL

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in KINDS:
            points = []
            for mp in megapixels:
                path = Path(tmp) / f"{kind}-{mp}.img"
                make_kind(path, kind, mp)
                command = [sys.executable, __file__, "--memory-child", kind, "--image", str(path)]
                command += ["--size", str(size)]
                out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                points.append((mp, result["peak_mib"] - result["baseline_mib"], result))
                path.unlink()
            (mp0, d0, r0), (mp1, d1, _) = points[0], points[-1]
            slope = (d1 - d0) / (mp1 - mp0) if mp1 != mp0 else d1 / mp1
            rows.append((kind, points, slope, r0["baseline_mib"]))
    print(
        f"peak RSS growth of one render -> {size}px WebP, Pillow {PIL.__version__}, "
        f"Python {sys.version.split()[0]}, one process per image"
    )
    header = f"{'kind':<14} " + " ".join(f"{f'{mp:g} MP +MiB':>12}" for mp in megapixels)
    header += f" {'MiB/MP':>7} {'B/px':>5} {'baseline':>9}"
    print(header)
    print("-" * len(header))
    for kind, points, slope, baseline in rows:
        cells = " ".join(f"{delta:>12.1f}" for _, delta, _ in points)
        print(f"{kind:<14} {cells} {slope:>7.2f} {slope * 1.048576:>5.1f} {baseline:>9.1f}")
    return 0


def memory_mib() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MiB."""
    status = Path("/proc/self/status")
    if status.exists():
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux KiB
    if sys.platform == "darwin":
        peak /= 1024  # bytes there
    return peak, peak


def child(mode: str, image_path: Path, iterations: int, size: int) -> None:
    sys.path.insert(0, str(HANDLER_DIR))
    from thumbnailer.imaging import make_thumbnail

    data = image_path.read_bytes()
    baseline, _ = memory_mib()
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        thumbnail = make_thumbnail(data, size=size, max_pixels=50_000_000, use_draft=MODES[mode])
        timings.append(time.perf_counter() - started)
    timings.sort()
    print(
        json.dumps(
            {
                "mode": mode,
                "iterations": iterations,
                "per_second": iterations / sum(timings),
                "median_ms": timings[len(timings) // 2] * 1000,
                "baseline_mib": baseline,
                "peak_mib": memory_mib()[1],
                "thumbnail": [thumbnail.width, thumbnail.height],
            }
        )
    )


def run_mode(mode: str, image_path: Path, iterations: int, size: int) -> dict[str, object]:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--image",
        str(image_path),
        "--iterations",
        str(iterations),
        "--size",
        str(size),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--memory", action="store_true", help="peak memory per megapixel")
    parser.add_argument("--megapixels", type=float, nargs="+", default=[10.0, 20.0])
    parser.add_argument("--child", choices=sorted(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", choices=sorted(KINDS), help=argparse.SUPPRESS)
    parser.add_argument("--image", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.image, args.memory_child, args.size)
        return 0
    if args.memory:
        return run_memory(args.megapixels, args.size)
    if args.child:
        child(args.child, args.image, args.iterations, args.size)
        return 0

    import PIL

    with tempfile.TemporaryDirectory() as tmp:
        image_path = Path(tmp) / "photo-12mp.jpg"
        jpeg_bytes = make_photo(image_path)
        results = [run_mode(mode, image_path, args.iterations, args.size) for mode in MODES]
    print(
        f"{WIDTH}x{HEIGHT} JPEG ({jpeg_bytes / 1e6:.1f} MB) -> {args.size}px WebP thumbnail, "
        f"Pillow {PIL.__version__}, Python {sys.version.split()[0]}, "
        f"{args.iterations} iterations per mode, one process per mode"
    )
    header = (
        f"{'mode':<10} {'thumbs/s':>9} {'median ms':>10} {'peak RSS MiB':>13} {'decode +MiB':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        delta = float(r["peak_mib"]) - float(r["baseline_mib"])  # type: ignore[arg-type]
        print(
            f"{r['mode']:<10} {float(r['per_second']):>9.2f} "  # type: ignore[arg-type]
            f"{float(r['median_ms']):>10.1f} {float(r['peak_mib']):>13.1f} "  # type: ignore[arg-type]
            f"{delta:>12.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
