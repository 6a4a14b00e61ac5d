"""OCR of scanned pages and images, turned into glyphs for the one geometry builder.

The engine is RapidOCR (PP-OCR detection and recognition models inside the
``rapidocr`` wheel, run by onnxruntime; Apache-2.0, no download at run time),
chosen by measurement (``bench/ocr.py``). It is configured for table numbers:

* the 180° angle classifier is off (in a trial it turned a 9 into a 6; report
  pages are upright, and skew of a few degrees is undone from the boxes);
* one thread for onnxruntime and OpenCV: one parse worker, one core;
* every recognised word comes with its box and score, a Chinese character
  being a word of its own; a run of digits is split evenly across its box.

The words become glyphs ``(left, right, bottom, top, char)`` in page
coordinates (points for a PDF page, y upwards), after rotating the page's
skew out of their positions, and :func:`.layout.glyph_lines` builds lines of
cells from them exactly as from a text layer, each cell carrying its lowest
character score. Before recognition a red seal is lifted out (grey is taken
from the red channel, where red ink is nearly as bright as the paper) and
scanner specks are removed.

Cost: a page is read once per document (the result is cached by the
document's hash, see :class:`OcrCache`), at most ``max_pages`` pages per
document, and the engine is loaded once per process.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache, cached_property
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

from .document import Line, OcrInfo
from .layout import glyph_lines

if TYPE_CHECKING:
    import numpy as np

MAX_PAGES = 30  # pages read by OCR per document unless configured (NIANBAO_OCR_MAX_PAGES)
LOW_SCORE = 0.9  # a cell recognised with less confidence than this is a finding
MIN_SCORE = 0.3  # words below this are noise (the engine's own default drops below 0.5)
SPECK = 3  # pixels: dark blobs this small are specks (a full stop at 144 dpi is ~16)
MAX_SIDE = 2000  # pixels: larger images are scaled down before recognition (~145 dpi for A4; bounds memory)
RENDER_SCALE = 2.0  # PDF pages are rendered at 144 dpi for recognition
INSTALL_HINT = "pip install rapidocr onnxruntime"
_ENGINE_PARAMS = {
    "Global.use_cls": False,
    "Global.return_word_box": True,
    "Global.text_score": MIN_SCORE,
    "Global.max_side_len": MAX_SIDE,
    "Global.log_level": "error",
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
}


@dataclass(frozen=True)
class Word:
    """One recognised word: its text, score and box (x0, y0, x1, y1, x2, y2, x3, y3),
    the corners clockwise from top left, in image pixels (y downwards)."""

    text: str
    score: float
    quad: tuple[float, ...]


@dataclass
class OcrPage:
    """What the engine read on one image."""

    width: int
    height: int
    words: list[Word] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"width": self.width, "height": self.height, "seconds": self.seconds, "words": [asdict(w) for w in self.words]}

    @classmethod
    def from_json(cls, d: dict) -> OcrPage:
        words = [Word(w["text"], w["score"], tuple(w["quad"])) for w in d["words"]]
        return cls(d["width"], d["height"], words, d.get("seconds", 0.0))


def default_max_pages() -> int:
    try:
        return max(0, int(os.environ.get("NIANBAO_OCR_MAX_PAGES", MAX_PAGES)))
    except ValueError:
        return MAX_PAGES


def unavailable() -> str | None:
    """Why OCR cannot run here (the message a user sees), or None when it can."""
    try:
        _engine()
    except ImportError as e:
        return f"没有安装 OCR 组件（{e.name}），无法识别扫描件：请运行 {INSTALL_HINT}"
    return None


@cache
def _engine():
    import cv2
    from rapidocr import RapidOCR

    cv2.setNumThreads(1)
    return RapidOCR(params=dict(_ENGINE_PARAMS))


@cache
def engine_tag() -> str:
    """Names the engine and its settings: a cached result is only reused under the same tag."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("rapidocr")
    except PackageNotFoundError:
        release = "none"
    settings = json.dumps(_ENGINE_PARAMS, sort_keys=True) + str(RENDER_SCALE)
    return f"rapidocr-{release}-{hashlib.sha256(settings.encode()).hexdigest()[:8]}"


def _clean(image: np.ndarray) -> np.ndarray:
    """The page as the engine should see it: grey from the red channel, so red ink
    (a seal) turns light while black and blue ink stay dark, and red-tinted pixels
    lifted further towards white, so a seal's strokes vanish while the digits
    under them stay readable (measured in ``bench/ocr.py``)."""
    import numpy as np

    if image.ndim == 2:
        grey = image
    else:
        rgb = image[:, :, :3].astype(np.int32)
        red = rgb[:, :, 0]
        tinted = (red - np.maximum(rgb[:, :, 1], rgb[:, :, 2])) > 40
        grey = np.where(tinted, np.minimum(red * 255 // 215, 255), red).astype(np.uint8)
    grey = _despeckle(grey)
    return np.ascontiguousarray(np.stack([grey, grey, grey], axis=-1))


def _despeckle(grey: np.ndarray) -> np.ndarray:
    """Scanner specks (dark blobs of a few pixels, far smaller than a full stop) turned white."""
    import cv2
    import numpy as np

    dark = (grey < 160).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] <= SPECK
    small[0] = False  # the background
    out = grey.copy()
    out[small[labels]] = 255
    return out


class OcrFailed(Exception):
    """The engine could not read one page (its message says why); the rest of the document is read."""


def recognize(image: np.ndarray) -> OcrPage:
    """Run the engine over an RGB (or grey) image. The engine's own failures: out of memory
    is a ``MemoryError`` (the parse budget's to report), anything else ``OcrFailed``."""
    height, width = image.shape[:2]
    started = time.process_time()
    engine = _engine()
    try:
        result = engine(_clean(image))
    except MemoryError:
        raise
    except Exception as e:  # onnxruntime wraps every failure of its C++ core in one class
        cause = f"{e.__cause__ or e}"
        if "bad_alloc" in cause or "cannot allocate" in cause.lower():
            raise MemoryError("OCR 引擎内存不足") from e
        raise OcrFailed(f"OCR 引擎出错（{type(e.__cause__ or e).__name__}）") from e
    words: list[Word] = []
    for line in getattr(result, "word_results", None) or ():
        if not isinstance(line, (tuple, list)):
            continue  # a page with nothing on it gives placeholders, not words
        for entry in line:
            if not isinstance(entry, (tuple, list)) or len(entry) != 3:
                continue
            text, score, quad = entry
            if text.strip() and score >= MIN_SCORE:
                words.append(Word(text, round(float(score), 4), tuple(round(float(v), 1) for pt in quad for v in pt)))
    return OcrPage(width, height, words, round(time.process_time() - started, 3))


def _skew(words: list[Word]) -> float:
    """The page's skew in radians, from the slope of the words' top edges (wide words only)."""
    angles = []
    for w in words:
        x0, y0, x1, y1, *_ = w.quad
        if x1 - x0 > 1.0:
            angles.append(math.atan2(y1 - y0, x1 - x0))
    return median(angles) if len(angles) >= 3 else 0.0


def page_glyphs(page: OcrPage, unit: float) -> tuple[list[tuple[float, float, float, float, str]], list[float]]:
    """Glyphs in page coordinates (``unit`` page units per pixel, y upwards, skew
    rotated out) and each glyph's score."""
    angle = _skew(page.words)
    cos, sin = math.cos(-angle), math.sin(-angle)
    cx, cy = page.width / 2, page.height / 2
    glyphs, scores = [], []
    for w in page.words:
        xs, ys = w.quad[0::2], w.quad[1::2]
        # the word's centre, rotated about the page centre; its size along the text line
        mx, my = sum(xs) / 4 - cx, sum(ys) / 4 - cy
        x, y = cx + mx * cos - my * sin, cy + mx * sin + my * cos
        length = math.hypot(xs[1] - xs[0], ys[1] - ys[0])
        height = math.hypot(xs[3] - xs[0], ys[3] - ys[0])
        step = length / max(1, len(w.text))
        left = x - length / 2
        for k, ch in enumerate(w.text):
            if ch.isspace():
                continue
            a, b = left + k * step, left + (k + 1) * step
            glyphs.append((a * unit, b * unit, (page.height - y - height / 2) * unit, (page.height - y + height / 2) * unit, ch))
            scores.append(w.score)
    return glyphs, scores


def page_lines(page: OcrPage, number: int | None, unit: float) -> list[Line]:
    glyphs, scores = page_glyphs(page, unit)
    return glyph_lines(glyphs, page=number, scores=scores)


class OcrCache:
    """OCR results on disk, one gzipped JSON file per page: ``<root>/<engine tag>/ab/<sha256>-<page>.json.gz``.

    Keyed by the document's hash and the page's index, and by the engine's tag so an
    upgraded engine reads again. Written atomically; a damaged file is read again.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str, index: int) -> Path:
        return self.root / engine_tag() / key[:2] / f"{key}-{index}.json.gz"

    def get(self, key: str, index: int) -> OcrPage | None:
        path = self._path(key, index)
        try:
            return OcrPage.from_json(json.loads(gzip.decompress(path.read_bytes())))
        except (OSError, ValueError, KeyError, EOFError):
            return None

    def put(self, key: str, index: int, page: OcrPage) -> None:
        path = self._path(key, index)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        tmp.write_bytes(gzip.compress(json.dumps(page.to_json(), ensure_ascii=False).encode(), 6, mtime=0))
        os.replace(tmp, path)


@dataclass
class OcrOptions:
    """How OCR runs for the documents of one parse: a page budget per document, a
    cache, and a callback after each page read (``on_page(pages read so far)``)."""

    max_pages: int = field(default_factory=default_max_pages)
    cache: OcrCache | None = None
    on_page: Callable[[int], None] | None = None


class DocumentOcr:
    """OCR for the pages of one document: the budget, the cache, what was read."""

    def __init__(self, data: bytes, options: OcrOptions | None):
        self.options = options or OcrOptions()
        self._data = data
        self.info = OcrInfo()

    @cached_property
    def key(self) -> str:
        """The document's hash, the cache's key: made only when a page needs OCR."""
        return hashlib.sha256(self._data).hexdigest()

    @property
    def result(self) -> OcrInfo | None:
        """What OCR did, or None when no page needed it."""
        info = self.info
        return info if info.pages or info.skipped or info.unavailable or info.errors else None

    def lines(self, index: int, number: int, render: Callable[[], np.ndarray], unit: float) -> list[Line]:
        """The lines OCR reads on page ``index`` (shown as page ``number``); ``render``
        gives the page as an RGB image, ``unit`` the page units per pixel. Nothing when
        the page budget is spent or OCR is unavailable (both recorded in ``info``)."""
        info = self.info
        if info.unavailable is not None:
            return []
        if len(info.pages) >= self.options.max_pages:
            info.skipped.append(number)
            return []
        cache = self.options.cache
        page = cache.get(self.key, index) if cache else None
        if page is None:
            reason = unavailable()
            if reason is not None:
                info.unavailable = reason
                return []
            try:
                page = recognize(render())
            except OcrFailed as e:
                info.errors.append(f"第 {number} 页：{e}")
                return []
            info.seconds += page.seconds
            if cache:
                cache.put(self.key, index, page)
        else:
            info.cached += 1
        info.pages.append(number)
        if self.options.on_page:
            self.options.on_page(len(info.pages))
        return page_lines(page, number, unit)
