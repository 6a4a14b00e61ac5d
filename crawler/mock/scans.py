"""Scanned reports, made from real ones: pages rendered to images with the text
layer gone, as an office's scanner or phone would leave them.

Used by the mock portals (the demo's scanned reports), the OCR tests and
``bench/ocr.py``. Degradations: a skew of a few degrees, blur, JPEG artefacts,
speckle noise, and a red seal stamped over the table.
"""

from __future__ import annotations

import io
import math
import random
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFilter

from .documents import _DOCX_RELS as _RELS
from .documents import _DOCX_TYPES as _CONTENT_TYPES
from .documents import _W, _para

SCAN_DPI = 144  # pages are rendered at 2× (PDF points are 1/72 inch)


def page_images(pdf: bytes, pages: list[int] | None = None, dpi: int = SCAN_DPI) -> list[Image.Image]:
    """Pages of a PDF (0-based indexes; default all) as RGB images."""
    doc = pdfium.PdfDocument(pdf)
    try:
        indexes = range(len(doc)) if pages is None else pages
        return [doc[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in indexes]
    finally:
        doc.close()


@dataclass(frozen=True)
class Damage:
    """How a scan is worse than a clean rendering."""

    rotate: float = 0.0  # degrees, counter-clockwise
    blur: float = 0.0  # Gaussian radius in pixels
    jpeg: int | None = None  # JPEG quality (artefacts) or None
    noise: float = 0.0  # share of pixels turned to speckle
    seal: bool = False  # a red seal over the lower right of the page
    name: str = "clean"


def damage(image: Image.Image, how: Damage, seed: int = 16) -> Image.Image:
    rng = random.Random(seed)
    out = image.copy()
    if how.seal:
        out = _seal(out)
    if how.rotate:
        out = out.rotate(how.rotate, resample=Image.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    if how.blur:
        out = out.filter(ImageFilter.GaussianBlur(how.blur))
    if how.noise:
        pixels = out.load()
        for _ in range(int(out.width * out.height * how.noise)):
            x, y = rng.randrange(out.width), rng.randrange(out.height)
            pixels[x, y] = (90, 90, 90) if rng.random() < 0.5 else (255, 255, 255)
    if how.jpeg is not None:
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=how.jpeg)
        out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return out


def _seal(image: Image.Image) -> Image.Image:
    """A round red seal (ring, star, and the strokes of its arc of text), half transparent,
    stamped over the page's lower middle."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    r = image.width // 7
    cx, cy = image.width * 2 // 3, image.height * 3 // 5
    red = (220, 30, 30, 170)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=max(4, r // 14))
    at = lambda degrees, radius: (cx + radius * math.cos(math.radians(degrees)), cy + radius * math.sin(math.radians(degrees)))
    draw.polygon([at(-90 + k * 36, r * (0.35 if k % 2 == 0 else 0.14)) for k in range(10)], fill=red)
    for k in range(14):
        x, y = at(200 + k * 10, r * 0.72)
        draw.rectangle((x - r * 0.06, y - r * 0.06, x + r * 0.06, y + r * 0.06), fill=red)
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


def image_bytes(image: Image.Image, fmt: str = "PNG", dpi: int = SCAN_DPI) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, dpi=(dpi, dpi), **({"quality": 85} if fmt == "JPEG" else {}))
    return buf.getvalue()


def image_pdf(images: list[Image.Image], dpi: int = SCAN_DPI) -> bytes:
    """An image-only PDF, one page per image (JPEG inside, as scanners write them)."""
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi), quality=85)
    return buf.getvalue()


def mixed_pdf(pdf: bytes, scanned: set[int], dpi: int = SCAN_DPI) -> bytes:
    """The PDF with the pages in ``scanned`` (0-based) replaced by images of themselves."""
    src = pdfium.PdfDocument(pdf)
    out = pdfium.PdfDocument.new()
    try:
        for i in range(len(src)):
            if i not in scanned:
                out.import_pages(src, [i])
                continue
            width, height = src[i].get_size()
            image = src[i].render(scale=dpi / 72).to_pil().convert("RGB")
            page = out.new_page(width, height)
            picture = pdfium.PdfImage.new(out)
            picture.load_jpeg(io.BytesIO(image_bytes(image, "JPEG")), inline=True)
            picture.set_matrix(pdfium.PdfMatrix().scale(width, height))
            page.insert_obj(picture)
            page.gen_content()
        buf = io.BytesIO()
        out.save(buf)
        return buf.getvalue()
    finally:
        out.close()
        src.close()


def docx_with_picture(paragraphs: list[str], picture: bytes, width_px: int, height_px: int) -> bytes:
    """A Word file whose paragraphs are text and whose table is a picture (PNG) between them."""
    cx, cy = 5_400_000, int(5_400_000 * height_px / width_px)
    drawing = (
        '<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:docPr id="1" name="table"/>'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        '<pic:nvPicPr><pic:cNvPr id="1" name="table.png"/><pic:cNvPicPr/></pic:nvPicPr>'
        '<pic:blipFill><a:blip xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:embed="rIdPic1"/>'
        "<a:stretch><a:fillRect/></a:stretch></pic:blipFill>"
        f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
        "</wp:inline></w:drawing></w:r></w:p>"
    )
    head, tail = paragraphs[:1], paragraphs[1:]
    body = "".join(_para(p) for p in head) + drawing + "".join(_para(p) for p in tail)
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {_W}><w:body>{body}<w:sectPr/></w:body></w:document>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rIdPic1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
        'Target="media/image1.png"/></Relationships>'
    )
    types = _CONTENT_TYPES.replace(
        '<Default Extension="xml"', '<Default Extension="png" ContentType="image/png"/><Default Extension="xml"'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", document)
        zf.writestr("word/_rels/document.xml.rels", rels)
        zf.writestr("word/media/image1.png", picture)
    return buf.getvalue()


# ---- the mock portals' scanned reports ----------------------------------------------------------

REAL_PDF = Path(__file__).parent / "data" / "realdoc02.pdf"  # 淮安市洪泽区人民政府 2024 (tests/fixtures/realdocs/02)
TABLE_PAGES = [1, 2, 3]  # its pages with the three tables (0-based)
PHOTO = Damage(rotate=1.5, noise=0.001, jpeg=60, name="photo")  # a page photographed askew, speckled, recompressed


@cache
def scanned_report() -> bytes:
    """The real report's table pages as an image-only PDF (a clean office scan)."""
    return image_pdf(page_images(REAL_PDF.read_bytes(), TABLE_PAGES))


@cache
def photographed_page() -> bytes:
    """The real report's 表三 page as a JPG, askew and noisy."""
    return image_bytes(damage(page_images(REAL_PDF.read_bytes(), [TABLE_PAGES[1]])[0], PHOTO), "JPEG")
