"""Pure image handling: validate untrusted bytes and render a thumbnail (no AWS here)."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import ExifTags, Image, UnidentifiedImageError

#: Decoders Pillow may use on uploaded bytes; every other plugin stays switched off.
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "GIF")

#: Magic numbers of image formats we recognise but refuse (better reason than "not an image").
_REFUSED_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"BM", "BMP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"8BPS", "PSD"),
    (0, b"\x00\x00\x01\x00", "ICO"),
    (0, b"%PDF", "PDF"),
    (4, b"ftypheic", "HEIC"),
    (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"),
)

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

#: Peak memory of one render in bytes per *decoded* pixel (after JPEG draft), per format:
#: bench/thumbnail_bench.py --memory measured 4 (JPEG), 8 (RGBA PNG), 10 (16-bit grey PNG),
#: 5 (GIF) and 17 (RGBA WebP); these add ~20 % headroom (CMYK JPEG: 4 + 3 for RGB).
PEAK_BYTES_PER_PIXEL = {"JPEG": 8, "PNG": 12, "GIF": 6, "WEBP": 20}
#: Resident memory of the runtime with boto3 and Pillow imported, plus headroom (MiB).
BASELINE_MIB = 128
_MIB = 1024 * 1024


def memory_pixel_limit(memory_mb: int, image_format: str, object_bytes: int = 0) -> int:
    """The largest decoded image (pixels) of ``image_format`` one render can afford.

    ``memory_mb`` is the function's memory size; the object's own bytes stay in memory too.
    """
    budget = (memory_mb - BASELINE_MIB) * _MIB - object_bytes
    return max(
        0, budget // PEAK_BYTES_PER_PIXEL.get(image_format, max(PEAK_BYTES_PER_PIXEL.values()))
    )


class ImageRejected(Exception):
    """The input can never become a thumbnail: retrying is pointless."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A rendered thumbnail and facts about its source image."""

    data: bytes
    width: int
    height: int
    source_format: str
    source_mode: str
    source_width: int
    source_height: int
    has_alpha: bool
    animated: bool


def make_thumbnail(
    data: bytes,
    *,
    size: int,
    max_pixels: int,
    output_format: str = "WEBP",
    use_draft: bool = True,
    memory_mb: int | None = None,
) -> Thumbnail:
    """Render ``data`` into a thumbnail that fits in ``size`` x ``size``.

    Raises ImageRejected for anything that is not a safe, decodable image of an allowed
    format: every exception a decoder raises on these untrusted bytes is a rejection.
    ``memory_mb`` (the function's memory size) bounds the *decoded* pixels (after JPEG
    draft, see ``memory_pixel_limit``): larger images are rejected as ``exceeds_memory``
    instead of running the function out of memory. ``source_width``/``source_height`` are
    the displayed (EXIF-oriented) size. ``use_draft=False`` decodes JPEGs at full size
    (benchmarks only).
    """
    if not data:
        raise ImageRejected("empty_object", "object has zero bytes")
    with _fatal_decompression_bombs(max_pixels):
        image = _open(data)
        with image:
            try:
                return _render(
                    image,
                    size=size,
                    max_pixels=max_pixels,
                    output_format=output_format,
                    use_draft=use_draft,
                    memory_pixels=(
                        None
                        if memory_mb is None
                        else memory_pixel_limit(memory_mb, image.format or "", len(data))
                    ),
                )
            except ImageRejected:
                raise
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise ImageRejected("decompression_bomb", str(exc)) from exc
            except MemoryError as exc:  # the model underestimated this image: not corrupt
                raise ImageRejected("exceeds_memory", "MemoryError while rendering") from exc
            except Exception as exc:  # any decoder failure on untrusted bytes
                raise ImageRejected("corrupt_image", f"{type(exc).__name__}: {exc}") from exc


@contextmanager
def _fatal_decompression_bombs(max_pixels: int) -> Iterator[None]:
    """Make Pillow's DecompressionBombWarning an error, with our pixel limit."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("decompression_bomb", str(exc)) from exc
    except UnidentifiedImageError as exc:
        refused = sniff_refused_format(data)
        if refused:
            raise ImageRejected("unsupported_format", f"{refused} is not accepted") from exc
        raise ImageRejected("not_an_image", "no allowed image decoder accepts the data") from exc
    except Exception as exc:  # TypeError, struct.error, ... from a plugin parsing a header
        raise ImageRejected("corrupt_image", f"{type(exc).__name__}: {exc}") from exc


def sniff_refused_format(data: bytes) -> str | None:
    """Name a recognised but refused image format from its magic number, else None."""
    for offset, magic, name in _REFUSED_SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return name
    return None


def _render(
    image: Image.Image,
    *,
    size: int,
    max_pixels: int,
    output_format: str,
    use_draft: bool,
    memory_pixels: int | None,
) -> Thumbnail:
    source_format = image.format or "UNKNOWN"
    source_mode = image.mode
    width, height = image.size
    if width * height > max_pixels:  # Image.open already checks; keep the rule explicit
        raise ImageRejected("decompression_bomb", f"{width}x{height} exceeds {max_pixels} pixels")
    animated = bool(getattr(image, "is_animated", False))
    icc_profile = image.info.get("icc_profile") if source_mode in ("RGB", "RGBA") else None
    orientation = _orientation(image)
    if source_format == "JPEG" and use_draft:
        # Decode at 1/2, 1/4 or 1/8 scale straight from the DCT: far less CPU and memory.
        image.draft(None, (size * 2, size * 2))
    decoded = image.size[0] * image.size[1]
    if memory_pixels is not None and decoded > memory_pixels:
        raise ImageRejected(
            "exceeds_memory",
            f"{image.size[0]}x{image.size[1]} decoded pixels exceed the {memory_pixels} "
            f"a {source_format} render can afford in this function's memory size",
        )
    image.load()
    normalised = _normalise_mode(image)
    normalised.thumbnail((size, size), Image.Resampling.LANCZOS)
    # Orientation last, on the small image: exif_transpose would copy the full-size image
    # (and rewrite the untrusted EXIF block, which is where malformed fields raise).
    method = _TRANSPOSE.get(orientation)
    if method is not None:
        normalised = normalised.transpose(method)
    rendered = _encode(normalised, output_format, icc_profile)
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    return Thumbnail(
        data=rendered,
        width=normalised.width,
        height=normalised.height,
        source_format=source_format,
        source_mode=source_mode,
        source_width=width,
        source_height=height,
        has_alpha=normalised.mode == "RGBA",
        animated=animated,
    )


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 when absent or unreadable: a broken EXIF block is not fatal)."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
        return int(value) if isinstance(value, int) else 1
    except Exception:  # malformed EXIF: show the pixels as stored
        return 1


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Return an RGB or RGBA image: CMYK, palette, grey, 16-bit and alpha variants handled."""
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        # 16-bit / 32-bit grey: scale to 8 bits instead of clipping to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    target = "RGBA" if has_alpha else "RGB"
    if image.mode == target:
        return image
    if image.mode == "P" and has_alpha:
        return image.convert("RGBA")  # palette transparency (GIF/PNG tRNS) becomes real alpha
    return image.convert(target)


def _encode(image: Image.Image, output_format: str, icc_profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    extra: dict[str, object] = {}
    if icc_profile:
        extra["icc_profile"] = icc_profile
    if output_format == "JPEG":
        if image.mode == "RGBA":
            image = _flatten(image)
        image.save(buffer, "JPEG", quality=85, optimize=True, progressive=True, **extra)
    elif output_format == "PNG":
        image.save(buffer, "PNG", optimize=True, **extra)
    else:
        image.save(buffer, "WEBP", quality=80, method=4, **extra)
    return buffer.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background
