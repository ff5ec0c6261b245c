"""Encoder cards: the one place where the facts about each built-in encoder live.

A card (in the spirit of MTEB's ``ModelMeta``) holds what is true of an encoder before it is built:
where its class lives, its licence, a one-line description, the official configuration's embedding
size and sample rate, the public source of the official code, and, for encoders with published
weights, the :class:`WeightsManifest` saying which files to look for and where they come from.

Everything else reads :data:`CARDS`: the encoder registry and ``impact-bench list encoders``
(``catalog.BUILTINS``), ``impact-bench weights`` and ``build_encoder``'s file lookup
(``weights.MANIFESTS``), and the encoder record of a results file (``protocol.describe``).
Adapters carry no licence or description of their own; a plugin may still set ``licence`` (or the
older spelling ``license``) and ``description`` on its encoder.

This module imports neither torch nor numpy.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from impact_bench.cache import default_cache_root

LISTEN_ROOT_ENV = "IMPACT_BENCH_LISTEN_ROOT"  # a clone of github.com/hanprd/LISTEN (suite listen-onsite too)

_NAME = r"^[a-z0-9][a-z0-9-]*$"
_TARGET = r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$"


class WeightsManifest(BaseModel):
    """Where an adapter's official weights are published and which file names to look for.

    Without ``--checkpoint`` a file is looked for at ``env_var`` (a file, or a folder holding one of
    ``files``), then in ``release_dir`` when set, then in :meth:`cache_dir` (``impact_bench.weights.locate``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    encoder: str = Field(pattern=_NAME)
    files: tuple[str, ...] = Field(min_length=1)  # official file names, preferred first
    source: str = Field(min_length=1)              # where users download them
    licence: str = Field(min_length=1)             # of the weights (the card's licence covers code and weights)
    sha256: dict[str, str] = {}                    # published digests, where known
    sha256_prefix: dict[str, str] = {}             # torch.hub-style file names: digest prefix
    note: str = ""
    # a release checkout holding the file: (environment variable naming its root, sub-folder)
    release_dir: Optional[tuple[str, str]] = None

    @property
    def env_var(self) -> str:
        return f"IMPACT_BENCH_{self.encoder.upper().replace('-', '_')}_CHECKPOINT"

    def cache_dir(self) -> Path:
        return default_cache_root() / "weights" / self.encoder


class EncoderCard(BaseModel):
    """What is known about an encoder without building it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    target: str = Field(pattern=_TARGET)          # "package.module:Class", imported only when the encoder is built
    licence: str = Field(min_length=1)            # code and weights; `list encoders` and results show it
    description: str = Field(min_length=1)
    embedding_dim: Optional[int] = Field(default=None, gt=0)  # of the official configuration (None: depends on it)
    sample_rate: Optional[int] = Field(default=None, gt=0)    # of the default configuration
    weights: Optional[WeightsManifest] = None     # official weights, where published
    needs_weights: bool = False                   # True: building without a checkpoint is an error
    reference: str = Field(min_length=1)          # public source of the official code

    @model_validator(mode="before")
    @classmethod
    def _weights_belong_to_the_card(cls, data: Any) -> Any:
        """``weights`` may be given as a mapping without ``encoder``: it is the card's name."""
        if isinstance(data, dict) and isinstance(data.get("weights"), dict) and "encoder" not in data["weights"]:
            data = {**data, "weights": {**data["weights"], "encoder": data.get("name")}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "EncoderCard":
        if self.weights is not None and self.weights.encoder != self.name:
            raise ValueError(f"card {self.name!r} holds the weights manifest of {self.weights.encoder!r}")
        return self


_LISTEN_LICENCE = "not stated by the LISTEN release (code and weights); research use at your own judgement"
_AUDIOMAE_LICENCE = "CC BY-NC 4.0: NON-COMMERCIAL (AudioMAE LICENSE)"
_OPERA_LICENCE = "code MIT; weights licence unclear (research only)"
_OPERA_WEIGHTS_LICENCE = "code MIT (OPERA LICENSE.txt); weights: not stated, pre-training data include CC BY-NC sets"


def _listen(name: str, cls: str, stem: str, dim: int, description: str, note: str = "") -> EncoderCard:
    return EncoderCard(
        name=name, target=f"impact_bench.baselines.listen:{cls}", licence=_LISTEN_LICENCE,
        description=f"{description}; Models/{stem}.pth", embedding_dim=dim, sample_rate=48_000, needs_weights=True,
        reference="github.com/hanprd/LISTEN",
        weights={"files": (f"{stem}.pth",), "source": "github.com/hanprd/LISTEN, folder Models/ (git clone)",
                 "licence": "not stated by the release", "release_dir": (LISTEN_ROOT_ENV, "Models"), "note": note})


CARDS: dict[str, EncoderCard] = {c.name: c for c in (
    EncoderCard(
        name="logmel-stats", target="impact_bench.encoders.logmel:LogMelStats", licence="MIT (part of impact-bench)",
        description="mean + std over time of 128 log-mel bands, 256-d; weight-free reference",
        embedding_dim=256, sample_rate=48_000, reference="impact-bench itself (impact_bench/encoders/logmel.py)"),
    EncoderCard(
        name="impact", target="impact_bench.impact.adapter:ImpactAdapter",
        licence="MIT (code); weights: as their trainer licenses them",
        description="IMPACT (EAT-style student-teacher transformer) last-layer CLS, 384-d; --checkpoint from "
                    "`impact-bench train` or the authors' file",
        embedding_dim=384, sample_rate=48_000, needs_weights=True,
        reference="github.com/hanprd/DINOS (the authors' framework; IMPACT_dist bytecode), re-implemented in "
                  "impact_bench/impact/",
        # DINOS downstream default backbone (IMPACT_dist config_impact, hanprd/DINOS)
        weights={"files": ("impact_DINOS_epoch_0010.pth",),
                 "source": "the IMPACT authors (DINOS downstream default backbone), or `impact-bench train`",
                 "licence": "as licensed by whoever trained them"}),
    EncoderCard(
        name="beats", target="impact_bench.baselines.beats:BeatsEncoder",
        licence="MIT (microsoft/unilm: code and weights)",
        description="BEATs iter3/iter3+ (pre-trained or AS2M fine-tuned), mean of last-layer tokens, 768-d; "
                    "--checkpoint BEATs_iter3*.pt",
        embedding_dim=768, sample_rate=16_000, needs_weights=True, reference="github.com/microsoft/unilm beats/",
        weights={"files": ("BEATs_iter3_plus_AS2M.pt", "BEATs_iter3.pt", "BEATs_iter3_plus_AS20K.pt",
                           "BEATs_iter3_plus_AS2M_finetuned_on_AS2M_cpt1.pt",
                           "BEATs_iter3_plus_AS2M_finetuned_on_AS2M_cpt2.pt"),
                 "source": "github.com/microsoft/unilm/tree/master/beats (README download links)",
                 "licence": "MIT (microsoft/unilm LICENSE)"}),
    EncoderCard(
        name="audiomae", target="impact_bench.baselines.audiomae:AudioMAEEncoder", licence=_AUDIOMAE_LICENCE,
        description="AudioMAE ViT-B/16 AS-2M pre-trained, mean of normed patch tokens, 768-d; --checkpoint "
                    "pretrained.pth",
        embedding_dim=768, sample_rate=16_000, needs_weights=True, reference="github.com/facebookresearch/AudioMAE",
        weights={"files": ("pretrained.pth",),
                 "source": "github.com/facebookresearch/AudioMAE README (ViT-B, AS-2M pre-trained; Google Drive link)",
                 "licence": "CC BY-NC 4.0 (LICENSE file; the README says CC-BY 4.0): non-commercial"}),
    EncoderCard(
        name="audiomae-ft", target="impact_bench.baselines.audiomae:AudioMAEFinetunedEncoder",
        licence=_AUDIOMAE_LICENCE,
        description="AudioMAE ViT-B/16 fine-tuned (AS-2M or your DINOS fine-tune), fc_norm(mean patch token), 768-d",
        embedding_dim=768, sample_rate=16_000, needs_weights=True, reference="github.com/facebookresearch/AudioMAE",
        weights={"files": ("finetuned.pth",),
                 "source": "github.com/facebookresearch/AudioMAE README (ViT-B, AS-2M pre-trained + AS-2M "
                           "fine-tuned), or your own fine-tune on DINOS",
                 "licence": "CC BY-NC 4.0 (LICENSE file): non-commercial"}),
    EncoderCard(
        name="clap", target="impact_bench.baselines.clap:ClapEncoder", licence="CC0-1.0 (LAION-CLAP code and weights)",
        description="LAION-CLAP 630k HTS-AT audio branch + projection, L2-normalised, 512-d (fusion and non-fusion "
                    "files); --checkpoint 630k-audioset-best.pt",
        embedding_dim=512, sample_rate=48_000, needs_weights=True, reference="github.com/LAION-AI/CLAP",
        weights={"files": ("630k-audioset-best.pt", "630k-best.pt", "630k-audioset-fusion-best.pt",
                           "630k-fusion-best.pt"),
                 "source": "Hugging Face model repo lukewys/laion_clap (630k checkpoints; HTS-AT tiny)",
                 "licence": "CC0-1.0 (model card; code CC0-1.0)"}),
    EncoderCard(
        name="opera-ct", target="impact_bench.baselines.opera:OperaCTEncoder", licence=_OPERA_LICENCE,
        description="OPERA-CT HTS-AT tiny respiratory encoder (contrastive), trimmed clip repeat-padded to 8 s, "
                    "768-d; --checkpoint encoder-operaCT.ckpt",
        embedding_dim=768, sample_rate=16_000, needs_weights=True, reference="github.com/evelyn0414/OPERA",
        weights={"files": ("encoder-operaCT.ckpt",),
                 "source": "Hugging Face model repo evelyn0414/OPERA (file encoder-operaCT.ckpt)",
                 "licence": _OPERA_WEIGHTS_LICENCE}),
    EncoderCard(
        name="opera-gt", target="impact_bench.baselines.opera:OperaGTEncoder", licence=_OPERA_LICENCE,
        description="OPERA-GT ViT-S/4 respiratory MAE, trimmed + repeat-padded 8.18-s chunks, 384-d; --checkpoint "
                    "encoder-operaGT.ckpt",
        embedding_dim=384, sample_rate=16_000, needs_weights=True, reference="github.com/evelyn0414/OPERA",
        weights={"files": ("encoder-operaGT.ckpt",),
                 "source": "Hugging Face model repo evelyn0414/OPERA (file encoder-operaGT.ckpt)",
                 "licence": _OPERA_WEIGHTS_LICENCE}),
    EncoderCard(
        name="vggish", target="impact_bench.baselines.vggish:VggishEncoder",
        licence="Apache-2.0 (tensorflow/models; torchvggish port)",
        description="VGGish 128-d pre-activation embedding, mean over 0.96-s examples; --checkpoint "
                    "vggish-10086976.pth",
        embedding_dim=128, sample_rate=16_000, needs_weights=True,
        reference="github.com/tensorflow/models research/audioset/vggish (PyTorch port: "
                  "github.com/harritaylor/torchvggish)",
        weights={"files": ("vggish-10086976.pth",),
                 "source": "github.com/harritaylor/torchvggish releases v0.1 (PCA: vggish_pca_params-970ea276.pth, "
                           "or the TF vggish_pca_params.npz, for --encoder-opt pca=FILE)",
                 "licence": "Apache-2.0 (tensorflow/models, torchvggish)",
                 "sha256_prefix": {"vggish-10086976.pth": "10086976",  # torch.hub names carry the sha256 prefix
                                   "vggish_pca_params-970ea276.pth": "970ea276"}}),
    _listen("listen", "ListenEncoder", "LISTEN", 64,
            "LISTEN (0.07 M, distilled from IMPACT; LISTEN release), mean of 64 patch tokens, 64-d"),
    _listen("bc-resnet-3", "BCResNet3Encoder", "BC-ResNet-3", 192,
            "BC-ResNet-3 student of IMPACT (LISTEN release), 192-d"),
    _listen("mobilevit-xxs", "MobileViTXXSEncoder", "MobileViT-XXS", 192,
            "MobileViT-XXS student of IMPACT (LISTEN release), 192-d"),
    _listen("mobilenetv4-small", "MobileNetV4SmallEncoder", "MobileNetV4-Small", 192,
            "MobileNetV4-Small student of IMPACT (LISTEN release), 192-d",
            note="absent from some copies of the release (e.g. the GitHub snapshot at 3f0718b, whose Models/ lacks "
                 "the file although the README lists it)"),
    EncoderCard(
        name="opensmile", target="impact_bench.baselines.opensmile:OpenSmileEncoder",
        licence="audEERING openSMILE research licence: NON-COMMERCIAL use only",
        description="openSMILE ComParE_2016 functionals, 6,373-d, raw (unstandardised); needs the [opensmile] extra",
        embedding_dim=6373, sample_rate=48_000, reference="github.com/audeering/opensmile-python"),
)}


def class_target(obj: Any) -> str:
    """``"module:QualName"`` of an object's class, as a card's ``target`` spells it."""
    cls = type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


def card_for(encoder: Any) -> EncoderCard | None:
    """The card of a built encoder: only when its class is the card's target (a plugin that borrows a
    built-in's name gets none)."""
    card = CARDS.get(str(getattr(encoder, "name", "")))
    return card if card is not None and class_target(encoder) == card.target else None


def licence_of(encoder: Any) -> str | None:
    """A built-in's card licence; otherwise the encoder's ``licence`` (or legacy ``license``) attribute."""
    card = card_for(encoder)
    if card is not None:
        return card.licence
    for attr in ("licence", "license"):
        value = getattr(encoder, attr, None)
        if value:
            return str(value)
    return None
