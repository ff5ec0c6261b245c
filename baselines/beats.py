"""``beats``: BEATs (iter3 / iter3+, pre-trained or AS2M fine-tuned) in plain torch, official parameter names.

Source: microsoft/unilm ``beats/BEATs.py``, ``beats/backbone.py``. Input: 16 kHz
mono in [-1, 1] → ×2^15 → Kaldi fbank (povey, 128 bins, 25/10 ms, no padding) → (x − 15.41663) / (2·6.55582)
→ Conv2d patches 16×16 (tokens time-major: t·8 + f) → LayerNorm(512) → Linear → conv positional
embedding (weight-normed Conv1d, k=128, groups 16, last output dropped, GELU) → LayerNorm (post-LN
model) → 12 DeepNorm post-LN layers with T5 relative-position buckets shared from layer 0 and gated
per layer (``grep_linear``, ``grep_a``). Embedding: mean over tokens of the last layer, 768-d; a
fine-tuned file's ``predictor`` is loaded (strictly) but bypassed.

Frames (``embed_frames``): the last layer's tokens regrouped over time, the mean over the 128 / p
frequency patches of each time row (token t·8 + f): one frame per p fbank frames, hop p × 10 ms = 160 ms
for p = 16; fbank frame k covers samples [160k, 160k + 400) (snip_edges), so row t is centred at
(p·t + (p − 1)/2) × 10 ms + 12.5 ms = 87.5 ms + 160 ms · t. The clip embedding is the mean of the frames.

Differences from the official code, none changing the numbers beyond float rounding: attention is
computed as softmax(q·kᵀ/√d + bias) instead of the re-centred ×1/32 form; the layer-drop draw from
NumPy's global RNG is gone (eval never drops a layer, the draw only consumed global state); batches
are equal-length clips, so there is no padding mask.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from impact_bench.cache import file_sha256
from impact_bench.checkpoints import CheckpointError, load_state_strict, read_checkpoint
from impact_bench.errors import EncoderError
from impact_bench.kaldi import FbankConfig, fbank
from impact_bench.weights import MANIFESTS

FBANK = FbankConfig(num_mel_bins=128, sample_frequency=16000, frame_length=25, frame_shift=10)  # BEATs.preprocess
FBANK_MEAN, FBANK_STD = 15.41663, 6.55582  # BEATs.extract_features defaults
MIN_SAMPLES = 2800  # 16 fbank frames: one 16 x 16 patch (unilm BEATs.py patch_embedding)
CONFIG_DEFAULTS: dict[str, Any] = {  # BEATsConfig defaults; a checkpoint's 'cfg' overrides them
    "input_patch_size": -1, "embed_dim": 512, "conv_bias": False, "encoder_layers": 12, "encoder_embed_dim": 768,
    "encoder_ffn_embed_dim": 3072, "encoder_attention_heads": 12, "activation_fn": "gelu",
    "layer_norm_first": False, "deep_norm": False, "conv_pos": 128, "conv_pos_groups": 16,
    "relative_position_embedding": False, "num_buckets": 320, "max_distance": 1280, "gru_rel_pos": False,
    "finetuned_model": False, "predictor_class": 527,
}


def relative_buckets(rel: torch.Tensor, num_buckets: int, max_distance: int) -> torch.Tensor:
    """Bidirectional T5 buckets as ``MultiheadAttention._relative_positions_bucket``."""
    half = num_buckets // 2
    out = (rel > 0).long() * half
    dist = rel.abs()
    max_exact = half // 2
    large = max_exact + (torch.log(dist.float().clamp_min(1) / max_exact) / math.log(max_distance / max_exact)
                         * (half - max_exact)).long()
    large = torch.clamp(large, max=half - 1)
    return out + torch.where(dist < max_exact, dist, large)


class WeightNormConv1d(nn.Module):
    """Conv1d with weight = g · v / ‖v‖ (norm over all dims but 2), keys ``weight_g``/``weight_v`` as
    ``nn.utils.weight_norm(conv, dim=2)`` writes them."""

    def __init__(self, channels: int, kernel: int, groups: int) -> None:
        super().__init__()
        self.padding, self.groups = kernel // 2, groups
        self.weight_g = nn.Parameter(torch.ones(1, 1, kernel))
        self.weight_v = nn.Parameter(torch.randn(channels, channels // groups, kernel) * 0.02)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = self.weight_v
        w = self.weight_g * v / v.pow(2).sum(dim=(0, 1), keepdim=True).sqrt()
        return F.conv1d(x, w, self.bias, padding=self.padding, groups=self.groups)


class SelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int, cfg: dict[str, Any], rel_bias: nn.Embedding | None) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.k_proj, self.v_proj, self.q_proj, self.out_proj = (nn.Linear(dim, dim) for _ in range(4))
        self.num_buckets, self.max_distance = cfg["num_buckets"], cfg["max_distance"]
        if rel_bias is not None:
            self.relative_attention_bias = rel_bias  # one module shared by every layer, as the official encoder
        self.gru_rel_pos = bool(cfg["gru_rel_pos"])
        if self.gru_rel_pos:
            self.grep_linear = nn.Linear(self.head_dim, 8)
            self.grep_a = nn.Parameter(torch.ones(1, heads, 1, 1))

    def position_bias(self, n: int) -> torch.Tensor:
        pos = torch.arange(n)
        buckets = relative_buckets(pos[None, :] - pos[:, None], self.num_buckets, self.max_distance)
        return self.relative_attention_bias(buckets.to(self.relative_attention_bias.weight.device)).permute(2, 0, 1)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = (p(x).view(b, n, self.heads, self.head_dim).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.head_dim ** -0.5
        if bias is not None:
            if self.gru_rel_pos:  # per-query gate from the unscaled query: sigmoid of two 4-sums
                g = torch.sigmoid(self.grep_linear(q).view(b, self.heads, n, 2, 4).sum(-1))
                gate_a, gate_b = g[..., :1], g[..., 1:]
                bias = (gate_a * (gate_b * self.grep_a - 1.0) + 2.0) * bias
            scores = scores + bias
        out = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, d))


class EncoderLayer(nn.Module):
    def __init__(self, cfg: dict[str, Any], rel_bias: nn.Embedding | None) -> None:
        super().__init__()
        dim = cfg["encoder_embed_dim"]
        self.self_attn = SelfAttention(dim, cfg["encoder_attention_heads"], cfg, rel_bias)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, cfg["encoder_ffn_embed_dim"])
        self.fc2 = nn.Linear(cfg["encoder_ffn_embed_dim"], dim)
        self.final_layer_norm = nn.LayerNorm(dim)
        self.pre_ln = bool(cfg["layer_norm_first"])
        self.alpha = math.pow(2 * cfg["encoder_layers"], 1 / 4) if cfg["deep_norm"] else 1.0  # DeepNorm

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if self.pre_ln:
            x = x + self.self_attn(self.self_attn_layer_norm(x), bias)
            return x + self.fc2(F.gelu(self.fc1(self.final_layer_norm(x))))
        x = self.self_attn_layer_norm(x * self.alpha + self.self_attn(x, bias))
        return self.final_layer_norm(x * self.alpha + self.fc2(F.gelu(self.fc1(x))))


class TransformerEncoder(nn.Module):
    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__()
        dim = cfg["encoder_embed_dim"]
        self.pos_conv = nn.Sequential(WeightNormConv1d(dim, cfg["conv_pos"], cfg["conv_pos_groups"]))
        self.drop_last = cfg["conv_pos"] % 2 == 0  # SamePad
        shared = nn.Embedding(cfg["num_buckets"], cfg["encoder_attention_heads"]) if cfg["relative_position_embedding"] else None
        self.layers = nn.ModuleList(EncoderLayer(cfg, shared) for _ in range(cfg["encoder_layers"]))
        self.layer_norm = nn.LayerNorm(dim)
        self.pre_ln = bool(cfg["layer_norm_first"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv = self.pos_conv[0](x.transpose(1, 2))
        if self.drop_last:
            conv = conv[:, :, :-1]
        x = x + F.gelu(conv).transpose(1, 2)
        if not self.pre_ln:
            x = self.layer_norm(x)
        first = self.layers[0].self_attn
        bias = first.position_bias(x.shape[1]).unsqueeze(0) if hasattr(first, "relative_attention_bias") else None
        for layer in self.layers:
            x = layer(x, bias)
        return self.layer_norm(x) if self.pre_ln else x


class BEATs(nn.Module):
    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__()
        self.cfg = cfg
        p = cfg["input_patch_size"]
        self.patch_embedding = nn.Conv2d(1, cfg["embed_dim"], kernel_size=p, stride=p, bias=cfg["conv_bias"])
        self.layer_norm = nn.LayerNorm(cfg["embed_dim"])
        if cfg["embed_dim"] != cfg["encoder_embed_dim"]:
            self.post_extract_proj = nn.Linear(cfg["embed_dim"], cfg["encoder_embed_dim"])
        self.encoder = TransformerEncoder(cfg)
        if cfg["finetuned_model"]:  # AudioSet head: loaded so that nothing is ignored, bypassed for embeddings
            self.predictor = nn.Linear(cfg["encoder_embed_dim"], cfg["predictor_class"])

    @staticmethod
    def preprocess(wave: torch.Tensor) -> torch.Tensor:
        return (fbank(wave * 2**15, FBANK) - FBANK_MEAN) / (2 * FBANK_STD)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, N) 16-kHz waveforms → (B, tokens, encoder_embed_dim) last-layer features."""
        x = self.patch_embedding(self.preprocess(wave).unsqueeze(1))
        x = self.layer_norm(x.flatten(2).transpose(1, 2))
        if hasattr(self, "post_extract_proj"):
            x = self.post_extract_proj(x)
        return self.encoder(x)


def beats_config(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(CONFIG_DEFAULTS) - {"dropout", "attention_dropout", "activation_dropout",
                                                        "encoder_layerdrop", "dropout_input", "predictor_dropout",
                                                        "layer_wise_gradient_decay_ratio"})
    if unknown:
        raise CheckpointError(f"{path}: 'cfg' has settings this BEATs implementation does not know: {unknown}")
    cfg = {**CONFIG_DEFAULTS, **raw}
    if cfg["input_patch_size"] <= 0 or cfg["activation_fn"] != "gelu":
        raise CheckpointError(f"{path}: unsupported BEATs config (input_patch_size {cfg['input_patch_size']}, "
                              f"activation_fn {cfg['activation_fn']!r}); expected a positive patch size and gelu")
    return cfg


def load_beats(path: str | Path, trust: bool = False) -> BEATs:
    """An official BEATs ``.pt`` (``{'cfg': dict, 'model': state_dict[, 'label_dict']}``), loaded strictly."""
    path = Path(path)
    obj = read_checkpoint(path, trust)
    if not isinstance(obj, dict) or not isinstance(obj.get("cfg"), dict) or not isinstance(obj.get("model"), dict):
        raise CheckpointError(f"{path}: expected an official BEATs file, a dict with 'cfg' (dict) and 'model' "
                              f"(state dict); got {sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__}")
    model = BEATs(beats_config(obj["cfg"], path))
    state = dict(obj["model"])
    shared = [k for k in state if k.endswith("self_attn.relative_attention_bias.weight")]
    for k in shared:  # the shared bias appears under every layer; the copies must be one tensor
        if not torch.equal(state[k], state[shared[0]]):
            raise CheckpointError(f"{path}: {k} differs from {shared[0]}; BEATs shares one relative-position table")
    load_state_strict(model, state, path, f"BEATs model ({model.cfg['encoder_layers']} layers, "
                                          f"{model.cfg['encoder_embed_dim']}-d)")
    return model.eval()


class BeatsEncoder:
    """Frozen BEATs: mean of the last layer over tokens (``BEATs.extract_features``; pooled as jianganbai/RMIS)."""

    name = "beats"
    version = "1"
    sample_rate = 16000
    min_input_seconds = MIN_SAMPLES / 16000
    max_input_seconds: float | None = None

    def __init__(self, checkpoint: str | None = None, device: str = "cpu", trust_checkpoint: bool = False) -> None:
        if checkpoint is None:
            raise EncoderError("encoder 'beats' needs the official weights: --checkpoint FILE, one of "
                               f"{', '.join(MANIFESTS['beats'].files)} (manual download from the microsoft/unilm beats README); "
                               "`impact-bench weights` shows where files are looked for")
        self.model = load_beats(checkpoint, trust_checkpoint).to(torch.device(device))
        self.device = torch.device(device)
        self.embedding_dim = int(self.model.cfg["encoder_embed_dim"])
        self.checkpoint_sha256 = file_sha256(checkpoint)
        self.config = {"checkpoint_file": Path(checkpoint).name, "finetuned": bool(self.model.cfg["finetuned_model"]),
                       "layers": self.model.cfg["encoder_layers"], "pooling": "mean over tokens, last layer"}
        self.frame_embedding_dim = self.embedding_dim
        self.frame_hop_ms = float(self.model.cfg["input_patch_size"] * FBANK.frame_shift)

    def _checked(self, batch: np.ndarray) -> torch.Tensor:
        wave = torch.as_tensor(np.asarray(batch, dtype=np.float32), device=self.device)
        if wave.shape[-1] < MIN_SAMPLES:
            raise EncoderError(f"beats: clips need ≥ {MIN_SAMPLES} samples at 16 kHz (one 16-frame patch), "
                               f"got {wave.shape[-1]}")
        return wave

    def embed(self, batch: np.ndarray) -> np.ndarray:
        wave = self._checked(batch)
        with torch.inference_mode():
            return self.model(wave).mean(dim=1).float().cpu().numpy()

    def embed_frames(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, N) → (B, rows, 768): last-layer tokens averaged over the frequency patches of each time row."""
        wave = self._checked(batch)
        p = self.model.cfg["input_patch_size"]
        n_fbank = 1 + (wave.shape[-1] - FBANK.window_size) // FBANK.window_shift
        rows, cols = n_fbank // p, FBANK.num_mel_bins // p  # Conv2d(k=p, s=p) on (time, mel): rows time-major
        with torch.inference_mode():
            tokens = self.model(wave)
            frames = tokens.reshape(tokens.shape[0], rows, cols, -1).mean(dim=2).float().cpu().numpy()
        centres = (p * np.arange(rows, dtype=np.float64) + (p - 1) / 2) * FBANK.frame_shift + FBANK.frame_length / 2
        return frames, centres
