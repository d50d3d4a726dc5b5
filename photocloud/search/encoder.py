"""all-MiniLM-L6-v2 in numpy: the sentence model of meaning search, without torch.

The same computation as sentence-transformers (BERT, mean of the token vectors, unit length), read from the
package's own safetensors and tokenizer files: a search process then needs neither torch nor its ~300 MB (issue 18).
Embeddings match sentence-transformers' to a cosine above 0.9999 (search/tests/test_encoder.py).
"""

import json
from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length
HEADS = 12
EPSILON = 1e-12  # config.json: layer_norm_eps


class SentenceEncoder:
    def __init__(self, folder: Path):
        from safetensors import safe_open
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # tokenizer.json pads every text to 128: each batch is padded to its longest
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.words = _mapped(folder / "model.safetensors", "embeddings.word_embeddings.weight")
        with safe_open(str(folder / "model.safetensors"), framework="np") as stored:  # the rest: one array each
            names = [name for name in stored.keys() if name != "embeddings.word_embeddings.weight"]  # noqa: SIM118
            weights = {name: stored.get_tensor(name) for name in names}
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.norm = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self.layers = []
        for index in range(len({key.split(".")[2] for key in weights if key.startswith("encoder.layer.")})):

            def get(name, prefix=f"encoder.layer.{index}."):
                return weights[prefix + name]

            projections = ("query", "key", "value")
            self.layers.append(
                {  # transposed views, not copies: BLAS reads them as they are stored
                    "qkv": np.concatenate([get(f"attention.self.{name}.weight") for name in projections]).T,
                    "qkv_bias": np.concatenate([get(f"attention.self.{name}.bias") for name in projections]),
                    "out": get("attention.output.dense.weight").T,
                    "out_bias": get("attention.output.dense.bias"),
                    "norm1": (get("attention.output.LayerNorm.weight"), get("attention.output.LayerNorm.bias")),
                    "up": get("intermediate.dense.weight").T,
                    "up_bias": get("intermediate.dense.bias"),
                    "down": get("output.dense.weight").T,
                    "down_bias": get("output.dense.bias"),
                    "norm2": (get("output.LayerNorm.weight"), get("output.LayerNorm.bias")),
                }
            )

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit vectors (n, 384), in order; texts of similar length are batched together, as sentence-transformers
        does, so that little padding is computed."""
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda index: -len(encodings[index].ids))
        out = np.zeros((len(texts), self.words.shape[1]), np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            out[chosen] = self._embed([encodings[index].ids for index in chosen])
        return out

    def _embed(self, sequences: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in sequences)
        ids = np.zeros((len(sequences), length), np.int64)
        mask = np.zeros((len(sequences), length), np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1
        x = _layer_norm(self.words[ids] + self.positions[:length] + self.token_type, self.norm)
        # Padding gets no attention: a large negative score before the softmax.
        blocked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            x = _layer_norm(x + _attention(x, layer, blocked), layer["norm1"])
            hidden = _gelu(x @ layer["up"] + layer["up_bias"])
            x = _layer_norm(x + hidden @ layer["down"] + layer["down_bias"], layer["norm2"])
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _mapped(path: Path, name: str) -> np.ndarray:
    """One tensor of a safetensors file, mapped read-only rather than read: of the 30,522 word vectors (47 MB) only
    the rows of words met are ever in memory, and those pages are shared by every process (issue 18 footprint)."""
    with open(path, "rb") as handle:
        header_size = int.from_bytes(handle.read(8), "little")
        entry = json.loads(handle.read(header_size))[name]
    if entry["dtype"] != "F32":
        raise ValueError(f"{name} in {path} is {entry['dtype']}, not float32")
    begin, _end = entry["data_offsets"]
    return np.memmap(path, dtype=np.float32, mode="r", offset=8 + header_size + begin, shape=tuple(entry["shape"]))


def _attention(x: np.ndarray, layer: dict, blocked: np.ndarray) -> np.ndarray:
    batch, length, width = x.shape
    qkv = (x @ layer["qkv"] + layer["qkv_bias"]).reshape(batch, length, 3, HEADS, width // HEADS)
    # (batch, heads, length, d), contiguous: numpy multiplies strided stacks without BLAS, 100x slower
    query, key, value = (np.ascontiguousarray(qkv[:, :, part].transpose(0, 2, 1, 3)) for part in range(3))
    scores = query @ np.ascontiguousarray(key.transpose(0, 1, 3, 2)) / np.sqrt(np.float32(width // HEADS)) + blocked
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = scores / scores.sum(axis=-1, keepdims=True)
    context = (weights @ value).transpose(0, 2, 1, 3).reshape(batch, length, width)
    return context @ layer["out"] + layer["out_bias"]


def _layer_norm(x: np.ndarray, parameters: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + EPSILON) * parameters[0] + parameters[1]


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x·Φ(x), with erf from Abramowitz and Stegun 7.1.26 (error below 1.5e-7)."""
    z = np.abs(x) / np.sqrt(np.float32(2))
    t = 1 / (1 + 0.3275911 * z)
    polynomial = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1 - polynomial * np.exp(-z * z))
    return (0.5 * x * (1 + erf)).astype(np.float32)
