"""How much memory decoding an image takes, decided from its header before a pixel is decoded.

A web process serves several people at once, and a small file can hold a huge picture (a 0.1 MB PNG of
6300 x 6300 decodes to 159 MB). So every image operation (checking an upload, turning it upright, cropping
it) is planned from the header against ``BUDGET``, the most pixel and decoder memory one operation may
hold at a time, and either fits, is decoded at a reduced scale (JPEG only: libjpeg decodes at 1/2, 1/4 or
1/8 of each side for a fraction of the memory, through ``Image.draft``), or is refused in words that give
the limit.

What decoding costs (measured with Pillow 13, and what the numbers below encode):

- Pillow holds every multi-band image in four bytes a pixel (RGB too), single-band ones in one (two for
  16-bit);
- turning and cropping make a new image: a second copy, held while the first still is;
- a progressive JPEG makes libjpeg keep every coefficient of the whole image, two bytes a sample, whatever
  scale it decodes at (3 bytes a pixel at 4:2:0, 6 at 4:4:4);
- WebP goes through libwebp's animation decoder: its two canvases, the frame it hands over and Pillow's
  image are four RGBA copies, 16 bytes a pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

MB = 1024 * 1024
# The most pixel and decoder memory one image operation may hold: with the request, the encoder's buffers
# and Python's own, an upload or a crop stays within 64 MB of growth. Read at each call, so tests can lower it.
BUDGET = 48 * MB
JPEG_SCALES = (1, 2, 4, 8)  # what libjpeg can decode at (Image.draft picks among these)
WEBP_BYTES_PER_PIXEL = 16
TURNING = (2, 3, 4, 5, 6, 7, 8)  # EXIF orientations that need the pixels moved (1 is upright)
SWAPPING = (5, 6, 7, 8)  # those that swap width and height
FORMAT_NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "BMP": "BMP", "GIF": "GIF"}


@dataclass(frozen=True)
class Header:
    """What Pillow's lazy open tells about an image, as the file stores it (before any EXIF turn)."""

    format: str
    mode: str
    width: int
    height: int
    orientation: int = 1
    progressive: bool = False
    samples: float = 3.0  # JPEG: samples a pixel across its components (1.5 at 4:2:0, 3 at 4:4:4)
    mcu: tuple[int, int] = (8, 8)  # JPEG: the pixels one MCU covers, which libjpeg pads the image to

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def turned(self) -> bool:
        return self.orientation in TURNING

    @property
    def upright(self) -> tuple[int, int]:
        """The size as the person sees it (EXIF orientation applied)."""
        return (self.height, self.width) if self.orientation in SWAPPING else (self.width, self.height)

    @property
    def name(self) -> str:
        if self.format == "JPEG" and self.progressive:
            return "progressive JPEG"
        return FORMAT_NAMES.get(self.format, self.format)


def read_header(im: Image.Image) -> Header:
    """The header of a lazily opened image; nothing is decoded.

    PNG keeps EXIF in an eXIf chunk that Pillow reads at open only when it comes before the pixels;
    ``getexif()`` would otherwise decode the whole image to look further, so a PNG without one counts as
    upright.
    """
    fmt = im.format or ""
    orientation = 1
    if fmt != "PNG" or "exif" in im.info:
        orientation = int(im.getexif().get(0x0112, 1) or 1)
    samples, mcu = 3.0, (8, 8)
    layers = getattr(im, "layer", None) if fmt == "JPEG" else None
    if layers:
        hmax = max(h for _, h, _, _ in layers) or 1
        vmax = max(v for _, _, v, _ in layers) or 1
        samples = sum(h * v for _, h, v, _ in layers) / (hmax * vmax)
        mcu = (8 * hmax, 8 * vmax)
    return Header(
        format=fmt,
        mode=im.mode,
        width=im.width,
        height=im.height,
        orientation=orientation if 1 <= orientation <= 8 else 1,
        progressive=bool(im.info.get("progressive") or im.info.get("progression")),
        samples=samples,
        mcu=mcu,
    )


def pixel_bytes(mode: str) -> int:
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def scaled(h: Header, scale: int) -> tuple[int, int]:
    """The size a decode at 1/``scale`` gives (libjpeg rounds up)."""
    return math.ceil(h.width / scale), math.ceil(h.height / scale)


def draft(im: Image.Image, h: Header, scale: int) -> None:
    """Ask libjpeg to decode at 1/``scale``: ``Image.draft`` picks the largest scale the requested size
    allows, and dividing down (not up) makes that ``scale`` itself."""
    if scale > 1:
        im.draft(im.mode, (max(1, h.width // scale), max(1, h.height // scale)))


def _image_bytes(h: Header, scale: int) -> int:
    w, ht = scaled(h, scale)
    return w * ht * pixel_bytes(h.mode)


def _coefficients(h: Header) -> int:
    """libjpeg's whole-image coefficient buffer for a progressive JPEG (none for a baseline one)."""
    if h.format != "JPEG" or not h.progressive:
        return 0
    mw, mh = h.mcu
    padded = math.ceil(h.width / mw) * mw * math.ceil(h.height / mh) * mh
    return int(padded * h.samples * 2)


def decode_peak(h: Header, scale: int = 1) -> int:
    """The most memory decoding at 1/``scale`` holds at once."""
    if h.format == "WEBP":
        return h.pixels * WEBP_BYTES_PER_PIXEL
    return _image_bytes(h, scale) + _coefficients(h)


def held(h: Header, scale: int = 1) -> int:
    """What stays held once decoded, while the file is open (libwebp keeps its two canvases)."""
    if h.format == "WEBP":
        return h.pixels * (WEBP_BYTES_PER_PIXEL - 4)
    return _image_bytes(h, scale)


def scales(h: Header) -> tuple[int, ...]:
    return JPEG_SCALES if h.format == "JPEG" else (1,)


def check_scale(h: Header) -> int | None:
    """The scale the integrity check decodes at: as small as libjpeg goes, and whole for other formats."""
    scale = scales(h)[-1]
    return scale if decode_peak(h, scale) <= BUDGET else None


def upright_scale(h: Header) -> int | None:
    """The smallest reduction at which the image can be decoded and turned (a copy) within the budget."""
    for scale in scales(h):
        if max(decode_peak(h, scale), held(h, scale) + _image_bytes(h, scale)) <= BUDGET:
            return scale
    return None


def crop_scale(h: Header, crop: tuple[int, int]) -> int | None:
    """The smallest reduction at which ``crop`` (width, height in full-size pixels) can be cut within the
    budget: the decode, then the source (and, for a stored image still marked turned, its turned copy) held
    while the crop is copied out."""
    for scale in scales(h):
        copy = math.ceil(crop[0] / scale) * math.ceil(crop[1] / scale) * pixel_bytes(h.mode)
        turn = _image_bytes(h, scale) if h.turned else 0
        if max(decode_peak(h, scale), held(h, scale) + turn + copy) <= BUDGET:
            return scale
    return None


def _cost_per_pixel(h: Header) -> float:
    """What each pixel costs in the dearest thing the studio does with an image of this kind, at the
    smallest scale it can: every image must be checkable, turnable and croppable whole."""
    bpp = pixel_bytes(h.mode)
    if h.format == "WEBP":
        return WEBP_BYTES_PER_PIXEL
    if h.format == "JPEG":
        coefficients = h.samples * 2 if h.progressive else 0
        return coefficients + 2 * bpp / (JPEG_SCALES[-1] ** 2)
    return 2 * bpp


def max_pixels(h: Header) -> int:
    """The most pixels an image of this kind may have for everything the studio does with it to fit."""
    return int(BUDGET // _cost_per_pixel(h))


def fits(h: Header) -> bool:
    return h.pixels <= max_pixels(h)


def _megapixels(n: float) -> str:
    return f"{n / 1e6:.1f}"


def limit_words(h: Header) -> str:
    """ "PNG images may be up to 6.3 megapixels" """
    return f"{h.name} images may be up to {_megapixels(max_pixels(h))} megapixels"


def refusal(h: Header) -> str | None:
    """Why this image is too large, in the person's words (with the limit and a size that would do), or
    None when it fits."""
    if fits(h):
        return None
    w, ht = h.upright
    factor = math.sqrt(max_pixels(h) / h.pixels)
    example = f"{math.floor(w * factor)}x{math.floor(ht * factor)}"
    if h.format == "JPEG":
        advice = "Scale it down, or save it as a baseline (not progressive) JPEG, and upload it again."
    else:
        advice = "Scale it down, or save it as a JPEG, and upload it again."
    return (
        f"The image is {w}x{ht} ({_megapixels(h.pixels)} megapixels); {limit_words(h)} ({example} at this "
        f"shape). {advice}"
    )
