"""Encoder cards: the one place where the facts about each built-in encoder live.

A card (in the spirit of MTEB's ``ModelMeta``) holds what is true of an encoder before it is built:
where its class lives, its licence, a one-line description, the official configuration's embedding
size and sample rate, the public source of the official code, and, for encoders with published
weights, the :class:`WeightsManifest` saying which files to look for and where they come from.

Everything else reads :data:`CARDS`: the encoder registry and ``impact-bench list encoders``
(``catalog.BUILTINS``), ``impact-bench weights`` and ``build_encoder``'s file lookup
(``weights.MANIFESTS``), the encoder record of a results file (``protocol.describe``), ``impact-bench card``
(the model card as markdown) and the leaderboards' zero-shot marks (``leaderboards.common``).

The model-card part records, per encoder, its training data (:class:`~impact_bench.encoders.provenance.Corpus`:
which DINOS / DCASE / MIMII / LISTEN recordings were seen, and how they relate to the benchmark clips),
size and MACs per 1-s clip (measured by ``scripts/measure_card_costs.py``; ``tests/test_model_cards.py``
re-measures the cheap ones), the licences of code and of weights, and a citation. Every fact names its
public source.
Adapters carry no licence or description of their own; a plugin may still set ``licence`` (or the
older spelling ``license``) and ``description`` on its encoder.

This module imports neither torch nor numpy.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from impact_bench.cache import default_cache_root
from impact_bench.encoders.provenance import Corpus, Cost, strongest

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
    # model card: what the weights saw (() = no trained weights), size and compute, licences, citation
    training_data: tuple[Corpus, ...]
    cost: Cost
    code_licence: str = Field(min_length=1)
    weights_licence: str = Field(min_length=1)
    citation: str = Field(min_length=1)

    @property
    def saw(self) -> frozenset[str]:
        """Suite families (``provenance.FAMILIES``) whose source recordings any of its training data contain."""
        return frozenset().union(*(c.families for c in self.training_data))

    def exposure(self, families: frozenset[str] | set[str]) -> Optional[Corpus]:
        """The training corpus that saw these suite families' source data most directly (None: zero-shot)."""
        return strongest(self.training_data, families)

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
        if self.training_data and self.cost.parameters == 0:
            raise ValueError(f"card {self.name!r}: trained on data but its cost says 0 parameters")
        return self


_LISTEN_LICENCE = "not stated by the LISTEN release (code and weights); research use at your own judgement"
_AUDIOMAE_LICENCE = "CC BY-NC 4.0: NON-COMMERCIAL (AudioMAE LICENSE)"
_OPERA_LICENCE = "code MIT; weights licence unclear (research only)"
_OPERA_WEIGHTS_LICENCE = "code MIT (OPERA LICENSE.txt); weights: not stated, pre-training data include CC BY-NC sets"
_OWN_CODE = "MIT (impact-bench's own implementation)"

# --- training corpora (public sources named in each entry) -------------------------------------------
_NO_INDUSTRIAL = ("YouTube audio; no known overlap with DINOS, DCASE, MIMII or the LISTEN recordings (lab and "
                  "factory recordings published separately; no source reports any of them in AudioSet)")
_AS2M = Corpus(name="AudioSet AS-2M (about 2 M 10-s YouTube clips, unlabelled)", stage="pre-training",
               source="AudioMAE paper (Huang et al. 2022) and BEATs paper (Chen et al. 2023): pre-training on AS-2M", note=_NO_INDUSTRIAL)
_AS2M_LABELS = Corpus(name="AudioSet AS-2M with its 527 labels", stage="fine-tuning",
                      condition="the AS-2M fine-tuned files (BEATs *_finetuned_on_AS2M_*; AudioMAE finetuned.pth)",
                      source="microsoft/unilm beats/README.md; facebookresearch/AudioMAE README", note=_NO_INDUSTRIAL)
_AS2M_AUDIOMAE = _AS2M.model_copy(update={"note": _NO_INDUSTRIAL + ". The IMPACT paper (§5.2) lists AudioSet, ESC-50, "
                                                "Speech Commands and VoxCeleb; in the AudioMAE paper the last three are "
                                                "fine-tuning tasks, not pre-training data"})
_DINOS_PRETRAIN = Corpus(
    name="DINOS pre-training recordings: CNC SK2540, AM-LPBF RenishawR, AM-DED FormAlloy (stethoscope) and shop "
         "floor (microphone), 1,851 x 59 s each, 121 h, cut into 1-s clips",
    stage="pre-training", families=frozenset({"dinos"}), benchmark_clips="disjoint",
    source="IMPACT paper (arXiv 2507.06481) §4.1 and Table 1; §5.1: 'None of the benchmark samples are included in "
           "the pretraining data.'",
    condition="the authors' weights (impact_DINOS_epoch_0010.pth); a checkpoint from `impact-bench train` saw "
              "whatever it was trained on",
    note="same source as the dinos / dinos-anomaly suites, different machines and clips: the benchmark machines "
         "(RenishawL, VF2, Yornew VMC-300, ColdSpray) are not among the pre-training categories (Table 1)")
_LISTEN_KD = Corpus(
    name="DINOS (knowledge distillation from the IMPACT teacher)", stage="distillation",
    families=frozenset({"dinos"}), benchmark_clips="unknown",
    source="github.com/hanprd/LISTEN README ('distilled from the industrial sound teacher model IMPACT'; 'Data "
           "Availability': 'The pretraining dataset, DINOS'); LISTEN paper, arXiv 2507.07879",
    note="the README does not say which DINOS clips; the teacher's own pre-training clips are disjoint from the "
         "benchmark (IMPACT paper §5.1). The on-site CNC recordings (suite listen-onsite) trained only the "
         "classifier head, not this frozen backbone (README: 'only a shallow classifier head is trained')")
_LISTEN_CITATION = ("C. Han, Y. S. Kang, Y. Sim, H. W. Park, M. B.-G. Jun, 'LISTEN: Lightweight Industrial "
                    "Sound-representable Transformer for Edge Notification', Advanced Engineering Informatics 76, "
                    "104944 (2026), doi:10.1016/j.aei.2026.104944; arXiv 2507.07879")
_AUDIOMAE_CITATION = ("P.-Y. Huang, H. Xu, J. Li, A. Baevski, M. Auli, W. Galuba, F. Metze, C. Feichtenhofer, "
                      "'Masked Autoencoders that Listen', NeurIPS 2022; arXiv 2207.06405")
_OPERA_CITATION = ("Y. Zhang, T. Xia, J. Han, Y. Wu, G. Rizos, Y. Liu, M. Mosuily, J. Chauhan, C. Mascolo, 'Towards "
                   "Open Respiratory Acoustic Foundation Models: Pretraining and Benchmarking', arXiv 2406.16148 "
                   "(2024)")
_OPERA_DATA = Corpus(
    name="OPERA's curated respiratory audio (coughs, breathing, lung sounds; 136 K samples, 440 h) from public "
         "and on-request sets such as UK COVID-19, COVID-19 Sounds, CoughVID, ICBHI, HF Lung",
    stage="pre-training", source="github.com/evelyn0414/OPERA README (overview and 'Preparing data' table); "
                                 "OPERA paper, arXiv 2406.16148",
    note="medical recordings; no industrial audio")


def _cost(parameters: Optional[int], macs: Optional[int], note: str = "") -> Cost:
    """Values printed by ``python scripts/measure_card_costs.py`` (torch 2.13 CPU, seeded weights, batch 1)."""
    return Cost(parameters=parameters, macs_per_clip=macs, note=note)


def _listen(name: str, cls: str, stem: str, dim: int, description: str, cost: Cost, note: str = "") -> EncoderCard:
    return EncoderCard(
        name=name, target=f"impact_bench.baselines.listen:{cls}", licence=_LISTEN_LICENCE,
        description=f"{description}; Models/{stem}.pth", embedding_dim=dim, sample_rate=48_000, needs_weights=True,
        reference="github.com/hanprd/LISTEN",
        weights={"files": (f"{stem}.pth",), "source": "github.com/hanprd/LISTEN, folder Models/ (git clone)",
                 "licence": "not stated by the release", "release_dir": (LISTEN_ROOT_ENV, "Models"), "note": note},
        training_data=(_LISTEN_KD,), cost=cost, code_licence="not stated (the LISTEN repository has no licence file)",
        weights_licence="not stated by the release", citation=_LISTEN_CITATION)


_MEL = "includes the 128-band mel filterbank product (16.8 M MACs); FFTs not counted"

CARDS: dict[str, EncoderCard] = {c.name: c for c in (
    EncoderCard(
        name="logmel-stats", target="impact_bench.encoders.logmel:LogMelStats", licence="MIT (part of impact-bench)",
        description="mean + std over time of 128 log-mel bands, 256-d; weight-free reference",
        embedding_dim=256, sample_rate=48_000, reference="impact-bench itself (impact_bench/encoders/logmel.py)",
        training_data=(), cost=_cost(0, 12_332_800, "the mel filterbank product only; FFTs not counted"),
        code_licence=_OWN_CODE, weights_licence="none (no trained weights)",
        citation="impact-bench (this repository), encoder logmel-stats"),
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
                 "licence": "as licensed by whoever trained them"},
        training_data=(_DINOS_PRETRAIN,),
        cost=_cost(17_342_528, 310_728_704, f"384-d, 8 blocks, 16 patches + CLS; {_MEL}; the LISTEN README "
                                            "reports 17.3 M parameters and 291.3 M MACs for the network alone"),
        code_licence=_OWN_CODE + "; the authors' framework (github.com/hanprd/DINOS) has no licence file",
        weights_licence="the authors' file: not stated; your own `impact-bench train` output: yours",
        citation="C. Han et al., 'IMPACT: Industrial Machine Perception via Acoustic Cognitive Transformer', "
                 "arXiv 2507.06481 (2025); DINOS data: Harvard Dataverse doi:10.7910/DVN/FWAZBQ"),
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
                 "licence": "MIT (microsoft/unilm LICENSE)"},
        training_data=(_AS2M, _AS2M_LABELS),
        cost=_cost(90_311_792, 4_382_470_400, "iter3 geometry, 48 tokens for 1 s; Kaldi fbank not counted"),
        code_licence="MIT (microsoft/unilm LICENSE)", weights_licence="MIT (no separate weights licence; unilm README)",
        citation="S. Chen, Y. Wu, C. Wang, S. Liu, D. Tompkins, Z. Chen, F. Wei, 'BEATs: Audio Pre-Training with "
                 "Acoustic Tokenizers', ICML 2023; arXiv 2212.09058"),
    EncoderCard(
        name="audiomae", target="impact_bench.baselines.audiomae:AudioMAEEncoder", licence=_AUDIOMAE_LICENCE,
        description="AudioMAE ViT-B/16 AS-2M pre-trained, mean of normed patch tokens, 768-d; --checkpoint "
                    "pretrained.pth",
        embedding_dim=768, sample_rate=16_000, needs_weights=True, reference="github.com/facebookresearch/AudioMAE",
        weights={"files": ("pretrained.pth",),
                 "source": "github.com/facebookresearch/AudioMAE README (ViT-B, AS-2M pre-trained; Google Drive link)",
                 "licence": "CC BY-NC 4.0 (LICENSE file; the README says CC-BY 4.0): non-commercial"},
        training_data=(_AS2M_AUDIOMAE,),
        cost=_cost(85_648_128, 48_526_096_640, "a 1-s clip is padded to 1,024 frames (512 patches), as AudioMAE's "
                                               "dataset code does; Kaldi fbank not counted"),
        code_licence="CC BY-NC 4.0 (AudioMAE LICENSE; the README says CC-BY 4.0)",
        weights_licence="CC BY-NC 4.0 (AudioMAE LICENSE): non-commercial", citation=_AUDIOMAE_CITATION),
    EncoderCard(
        name="audiomae-ft", target="impact_bench.baselines.audiomae:AudioMAEFinetunedEncoder",
        licence=_AUDIOMAE_LICENCE,
        description="AudioMAE ViT-B/16 fine-tuned (AS-2M or your DINOS fine-tune), fc_norm(mean patch token), 768-d",
        embedding_dim=768, sample_rate=16_000, needs_weights=True, reference="github.com/facebookresearch/AudioMAE",
        weights={"files": ("finetuned.pth",),
                 "source": "github.com/facebookresearch/AudioMAE README (ViT-B, AS-2M pre-trained + AS-2M "
                           "fine-tuned), or your own fine-tune on DINOS",
                 "licence": "CC BY-NC 4.0 (LICENSE file): non-commercial"},
        training_data=(_AS2M_AUDIOMAE, _AS2M_LABELS, Corpus(
            name="a subset of DINOS", stage="fine-tuning", families=frozenset({"dinos"}), benchmark_clips="unknown",
            condition="checkpoints fine-tuned on DINOS, as the IMPACT paper's AudioMAE-FineT; the AudioMAE README's "
                      "AS-2M fine-tuned file saw no DINOS audio. A results file cannot tell which: leaderboards "
                      "mark every audiomae-ft result on DINOS suites",
            source="IMPACT paper §5.2 ('we fine-tune AudioMAE using the subset of DINOS'); github.com/hanprd/DINOS "
                   "README ('Fine-tune pretrained AudioMAE or EAT models on the pretraining dataset')",
            note="the paper does not say which clips; the authors' framework fine-tunes on its DINOS_Pretrain folder")),
        cost=_cost(86_053_391, 48_526_096_640, "as audiomae; parameters include the 527-class AudioSet head the "
                                               "file holds (not used for embeddings)"),
        code_licence="CC BY-NC 4.0 (AudioMAE LICENSE; the README says CC-BY 4.0)",
        weights_licence="AS-2M fine-tune: CC BY-NC 4.0 (AudioMAE LICENSE); your own DINOS fine-tune: yours, within "
                        "CC BY-NC 4.0 of its starting weights",
        citation=_AUDIOMAE_CITATION + "; DINOS fine-tune: IMPACT paper (arXiv 2507.06481) §5.2"),
    EncoderCard(
        name="clap", target="impact_bench.baselines.clap:ClapEncoder", licence="CC0-1.0 (LAION-CLAP code and weights)",
        description="LAION-CLAP 630k HTS-AT audio branch + projection, L2-normalised, 512-d (fusion and non-fusion "
                    "files); --checkpoint 630k-audioset-best.pt",
        embedding_dim=512, sample_rate=48_000, needs_weights=True, reference="github.com/LAION-AI/CLAP",
        weights={"files": ("630k-audioset-best.pt", "630k-best.pt", "630k-audioset-fusion-best.pt",
                           "630k-fusion-best.pt"),
                 "source": "Hugging Face model repo lukewys/laion_clap (630k checkpoints; HTS-AT tiny)",
                 "licence": "CC0-1.0 (model card; code CC0-1.0)"},
        training_data=(Corpus(
            name="LAION-Audio-630K (633,526 audio-text pairs from Freesound, BBC Sound Effects and other public "
                 "sound libraries), AudioCaps, Clotho, and AudioSet with label-built captions ('630k-audioset' files)",
            stage="pre-training", source="CLAP paper (Wu et al. 2023) §3 and Table 1; LAION-AI/CLAP README "
                                         "(checkpoint names)",
            note="general sound effects and YouTube audio; no known overlap with DINOS, DCASE, MIMII or LISTEN "
                 "recordings (no source reports one)"),),
        cost=_cost(31_981_527, 6_992_872_000, "HTS-AT tiny on 10 s (a 1-s clip is repeat-padded, as LAION-CLAP "
                                              "does); parameters include the stored STFT/mel kernels and unused "
                                              "AudioSet head; STFT as convolution is counted"),
        code_licence="CC0-1.0 (LAION-AI/CLAP LICENSE)", weights_licence="CC0-1.0 (Hugging Face lukewys/laion_clap)",
        citation="Y. Wu, K. Chen, T. Zhang, Y. Hui, T. Berg-Kirkpatrick, S. Dubnov, 'Large-scale Contrastive "
                 "Language-Audio Pretraining with Feature Fusion and Keyword-to-Caption Augmentation', ICASSP 2023; "
                 "arXiv 2211.06687"),
    EncoderCard(
        name="opera-ct", target="impact_bench.baselines.opera:OperaCTEncoder", licence=_OPERA_LICENCE,
        description="OPERA-CT HTS-AT tiny respiratory encoder (contrastive), trimmed clip repeat-padded to 8 s, "
                    "768-d; --checkpoint encoder-operaCT.ckpt",
        embedding_dim=768, sample_rate=16_000, needs_weights=True, reference="github.com/evelyn0414/OPERA",
        weights={"files": ("encoder-operaCT.ckpt",),
                 "source": "Hugging Face model repo evelyn0414/OPERA (file encoder-operaCT.ckpt)",
                 "licence": _OPERA_WEIGHTS_LICENCE},
        training_data=(_OPERA_DATA,),
        cost=_cost(31_325_143, 5_915_918_016, "HTS-AT tiny on 8 s (repeat-padded); parameters include the unused "
                                              "torchlibrosa kernels and AudioSet-sized head the file holds"),
        code_licence="MIT (OPERA LICENSE.txt)", weights_licence=_OPERA_WEIGHTS_LICENCE, citation=_OPERA_CITATION),
    EncoderCard(
        name="opera-gt", target="impact_bench.baselines.opera:OperaGTEncoder", licence=_OPERA_LICENCE,
        description="OPERA-GT ViT-S/4 respiratory MAE, trimmed + repeat-padded 8.18-s chunks, 384-d; --checkpoint "
                    "encoder-operaGT.ckpt",
        embedding_dim=384, sample_rate=16_000, needs_weights=True, reference="github.com/evelyn0414/OPERA",
        weights={"files": ("encoder-operaGT.ckpt",),
                 "source": "Hugging Face model repo evelyn0414/OPERA (file encoder-operaGT.ckpt)",
                 "licence": _OPERA_WEIGHTS_LICENCE},
        training_data=(_OPERA_DATA,),
        cost=_cost(21_694_848, 31_461_762_048, "ViT-S/4 on one 8.18-s chunk (1,024 patches; repeat-padded)"),
        code_licence="MIT (OPERA LICENSE.txt)", weights_licence=_OPERA_WEIGHTS_LICENCE, citation=_OPERA_CITATION),
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
                                   "vggish_pca_params-970ea276.pth": "970ea276"}},
        training_data=(Corpus(
            name="a large labelled YouTube dataset (a preliminary version of what later became YouTube-8M)",
            stage="training", source="tensorflow/models research/audioset/vggish README",
            note="the IMPACT paper (§5.2) says AudioSet; the model's own README says the YouTube-8M precursor. "
                 + _NO_INDUSTRIAL),),
        cost=_cost(72_141_184, 865_507_456, "one 0.96-s example per 1-s clip; STFT not counted"),
        code_licence="Apache-2.0 (tensorflow/models; torchvggish)", weights_licence="Apache-2.0 (torchvggish release)",
        citation="S. Hershey et al., 'CNN Architectures for Large-Scale Audio Classification', ICASSP 2017; "
                 "arXiv 1609.09430"),
    _listen("listen", "ListenEncoder", "LISTEN", 64,
            "LISTEN (0.07 M, distilled from IMPACT; LISTEN release), mean of 64 patch tokens, 64-d",
            _cost(67_008, 22_036_480, f"{_MEL}; the LISTEN README reports 0.07 M parameters and 5.24 M MACs")),
    _listen("bc-resnet-3", "BCResNet3Encoder", "BC-ResNet-3", 192,
            "BC-ResNet-3 student of IMPACT (LISTEN release), 192-d",
            _cost(77_652, 54_036_032, f"{_MEL}; the LISTEN README reports 0.08 M parameters and 47.06 M MACs")),
    _listen("mobilevit-xxs", "MobileViTXXSEncoder", "MobileViT-XXS", 192,
            "MobileViT-XXS student of IMPACT (LISTEN release), 192-d",
            _cost(1_009_392, 95_551_488, f"{_MEL}; the LISTEN README reports 0.76 M parameters and 65.67 M MACs")),
    _listen("mobilenetv4-small", "MobileNetV4SmallEncoder", "MobileNetV4-Small", 192,
            "MobileNetV4-Small student of IMPACT (LISTEN release), 192-d",
            _cost(1_445_600, 74_535_936, f"{_MEL}; the LISTEN README reports 1.45 M parameters and 60.32 M MACs"),
            note="absent from some copies of the release (e.g. the GitHub snapshot at 3f0718b, whose Models/ lacks "
                 "the file although the README lists it)"),
    EncoderCard(
        name="opensmile", target="impact_bench.baselines.opensmile:OpenSmileEncoder",
        licence="audEERING openSMILE research licence: NON-COMMERCIAL use only",
        description="openSMILE ComParE_2016 functionals, 6,373-d, raw (unstandardised); needs the [opensmile] extra",
        embedding_dim=6373, sample_rate=48_000, reference="github.com/audeering/opensmile-python",
        training_data=(), cost=_cost(None, None, "hand-designed C++ feature extractor: no torch network to count"),
        code_licence="audEERING openSMILE research licence: non-commercial (wheel LICENSE; the PyPI 'MIT' "
                     "classifier is misleading)", weights_licence="none (no trained weights)",
        citation="F. Eyben, M. Woellmer, B. Schuller, 'openSMILE - The Munich Versatile and Fast Open-Source Audio "
                 "Feature Extractor', ACM Multimedia 2010; ComParE 2016 feature set: B. Schuller et al., "
                 "Interspeech 2016"),
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
