"""Images (JPG, PNG, TIFF, BMP; a report scanned page by page) read by OCR.

Pillow decodes; every frame of a multi-page TIFF is a page. A frame is checked
for size before it is decoded (a decompression bomb is refused, not unpacked),
turned upright from its EXIF orientation, and scaled down to the OCR bound.
"""

from __future__ import annotations

import io
import warnings

from ..errors import ExtractError
from .document import Document, Line
from .ocr import MAX_SIDE, DocumentOcr, OcrOptions

MAX_PIXELS = 80_000_000  # one frame: a 300 dpi A0 scan is ~140 M; report pages at 300 dpi are ~9 M
MAX_FRAMES = 500
MIN_WIDTH, MIN_HEIGHT = 300, 100  # smaller pictures (logos, seals, icons) are not read
DEFAULT_DPI = 150


def _open(data: bytes):
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, ValueError) as e:
        raise ExtractError(f"corrupt or unsupported image ({e})") from None
    return image


def _frame_rgb(image):
    """The current frame, upright, RGB, within the OCR size bound, and its pixel size in points."""
    from PIL import ImageOps

    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ExtractError(f"image too large ({width}×{height} pixels, limit {MAX_PIXELS})")
    dpi = image.info.get("dpi", (DEFAULT_DPI, DEFAULT_DPI))[0] or DEFAULT_DPI
    frame = ImageOps.exif_transpose(image).convert("RGB")
    shrink = max(frame.size) / MAX_SIDE
    if shrink > 1:
        frame = frame.resize((round(frame.width / shrink), round(frame.height / shrink)))
    else:
        shrink = 1.0
    return frame, 72 / float(dpi) * shrink


def image_lines(data: bytes, reader: DocumentOcr, first: int = 1) -> tuple[list[Line], int]:
    """The lines OCR reads in every frame of one image (frames numbered from ``first``),
    and the number after the last frame's."""
    import numpy as np

    image = _open(data)
    lines: list[Line] = []
    frames = 1
    try:
        frames = min(getattr(image, "n_frames", 1), MAX_FRAMES)
        for k in range(frames):
            image.seek(k)
            if image.width < MIN_WIDTH or image.height < MIN_HEIGHT:
                continue
            frame, unit = _frame_rgb(image)
            lines += reader.lines(first + k - 1, first + k, lambda frame=frame: np.asarray(frame), unit)
    except (OSError, ValueError, EOFError) as e:
        raise ExtractError(f"corrupt image ({e})") from None
    finally:
        image.close()
    return lines, first + frames


def extract_image(data: bytes, ocr: OcrOptions | None = None) -> Document:
    reader = DocumentOcr(data, ocr)
    lines, _ = image_lines(data, reader)
    return Document(lines=lines, format="image", pages=len(reader.info.pages) or None, has_text_layer=False, ocr=reader.info)
