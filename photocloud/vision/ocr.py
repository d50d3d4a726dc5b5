"""Text in pictures (documents, screenshots, signs), read by RapidOCR's PP-OCR models on ONNX Runtime.

Reading a page takes about a second on 2 cores, so ingest first asks the cheap ``likely_has_text`` gate
and reads only the pictures it lets through.
"""

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from photocloud.vision.features import flatten_to_rgb

MIN_CONFIDENCE = 0.5
DETECTION_MAX_SIDE = 960  # keeps 10-point text on a photographed A4 page above the ~8 px the detector needs

GATE_SIDE = 512
GATE_MIN_LINES = 3
GATE_MIN_LINE_LENGTH = 0.5  # total length of the text-like lines, in image widths
GATE_MIN_STROKE_SHARE = 0.2  # share of all edge pixels that lie in those lines: ~1 on pages, < 0.15 in forests

_engine = None
_engine_lock = threading.Lock()


def read_text(image: Image.Image) -> str:
    """The text lines found in image, top to bottom, pieces of one line joined by spaces."""
    upright = flatten_to_rgb(ImageOps.exif_transpose(image))
    result = _get_engine()(np.ascontiguousarray(np.asarray(upright)[:, :, ::-1]))
    if not result.txts:
        return ""
    lines: list[list[str]] = []
    previous_bottom = None
    for box, text in zip(result.boxes, result.txts, strict=True):
        top, bottom = box[:, 1].min(), box[:, 1].max()
        if previous_bottom is not None and (top + bottom) / 2 < previous_bottom:
            lines[-1].append(text)
        else:
            lines.append([text])
        previous_bottom = bottom
    return "\n".join(" ".join(pieces) for pieces in lines)


@dataclass(frozen=True)
class TextLines:
    """What the cheap text check saw: text-like lines, their total length in image widths, their share of strokes."""

    count: int
    length: float
    share: float

    @property
    def likely(self) -> bool:
        return (
            self.count >= GATE_MIN_LINES and self.length >= GATE_MIN_LINE_LENGTH and self.share >= GATE_MIN_STROKE_SHARE
        )


def likely_has_text(image: Image.Image) -> bool:
    """A few milliseconds' guess whether reading is worth a second (see ``text_lines``)."""
    return text_lines(image).likely


def text_lines(image: Image.Image) -> TextLines:
    """Rows of letter-like strokes in the picture, in any script.

    On a 512 px grey version, a morphological gradient marks strokes; closing them along the line
    direction merges letters into words and lines; long, thin, well-filled blobs count as text lines.
    Trunks, blades of grass and ripples make such blobs too, but amid many other strokes, hence the share.
    Both directions are tried, so sideways pages pass as well. Any rendition of 512 px or more gives the
    same answer, so pass a thumbnail rather than the original.
    """
    gray = np.asarray(flatten_to_rgb(_shrink(image, GATE_SIDE)).convert("L"))
    return TextLines(*max(_text_lines(gray), _text_lines(gray.T), key=lambda found: found[2]))


def _text_lines(gray: np.ndarray) -> tuple[int, float, float]:
    """Horizontal text-like lines: how many, their total length in image widths, their share of all strokes."""
    import cv2

    gradient = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    _, strokes = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    merged = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    _, blob_of_pixel, stats, _ = cv2.connectedComponentsWithStats(merged, connectivity=8)
    width, height, pixels = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    image_width = gray.shape[1]
    is_line = (
        (height >= 5)
        & (height <= 40)
        & (width >= 3 * height)
        & (width >= 0.08 * image_width)
        & (pixels > 0.4 * width * height)
    )
    is_line[0] = False  # the background
    stroke = strokes > 0
    share = np.count_nonzero(is_line[blob_of_pixel] & stroke) / max(1, np.count_nonzero(stroke))
    return int(is_line.sum()), float(width[is_line].sum() / image_width), float(share)


def _shrink(image: Image.Image, side: int) -> Image.Image:
    scale = side / max(image.size)
    if scale >= 1.0:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0)


def _get_engine():
    """Build RapidOCR once per process on the model files inside the package, so it never downloads.

    Explicit model paths skip RapidOCR's download-and-verify step. The 180-degree classifier is off:
    EXIF orientation already turns pictures upright, and it would cost time on every line.
    """
    global _engine
    with _engine_lock:
        if _engine is None:
            # ONNX Runtime 1.31 keeps a device id and an event store under ~/.cache, and ships a telemetry
            # uploader, unless this is set before its first import.
            os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
            import rapidocr

            models = Path(rapidocr.__file__).parent / "models"
            threads = int(os.environ.get("PHOTOCLOUD_VISION_THREADS", "2"))
            _engine = rapidocr.RapidOCR(
                params={
                    "Global.log_level": "error",
                    "Global.text_score": MIN_CONFIDENCE,
                    "Global.use_cls": False,
                    "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
                    "Det.limit_type": "max",
                    "Det.limit_side_len": DETECTION_MAX_SIDE,
                    "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
                    "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                }
            )
        return _engine
