"""Where each adapter's official weights are looked for, and what was found.

Every adapter with downloadable weights has a :class:`WeightsManifest`: the official file names, where
they are published, the licence and, where known, sha256 digests. Without ``--checkpoint`` a file is
looked for, in order, at the manifest's environment variable (a file, or a folder holding one of the
expected names) and in ``<cache>/weights/<encoder>/`` (cache: ``$IMPACT_BENCH_CACHE`` or
``~/.cache/impact-bench``). Nothing is downloaded: the weights live on sites users reach themselves.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from impact_bench.cache import default_cache_root

LISTEN_ROOT_ENV = "IMPACT_BENCH_LISTEN_ROOT"  # a clone of github.com/hanprd/LISTEN (suite listen-onsite too)


@dataclass(frozen=True)
class WeightsManifest:
    encoder: str
    files: tuple[str, ...]          # official file names, preferred first
    source: str                     # where users download them
    licence: str
    sha256: dict[str, str] = field(default_factory=dict)  # published digests, where known
    sha256_prefix: dict[str, str] = field(default_factory=dict)  # torch.hub-style file names: digest prefix
    note: str = ""
    # a release checkout holding the file: (environment variable naming its root, sub-folder)
    release_dir: tuple[str, str] | None = None

    @property
    def env_var(self) -> str:
        return f"IMPACT_BENCH_{self.encoder.upper().replace('-', '_')}_CHECKPOINT"

    def cache_dir(self) -> Path:
        return default_cache_root() / "weights" / self.encoder


MANIFESTS: dict[str, WeightsManifest] = {m.encoder: m for m in (
    WeightsManifest("impact", ("impact_DINOS_epoch_0010.pth",),  # DINOS downstream default backbone (facts §2.3)
                    "the IMPACT authors (DINOS downstream default backbone), or `impact-bench train`",
                    "as licensed by whoever trained them"),
    WeightsManifest("beats", ("BEATs_iter3_plus_AS2M.pt", "BEATs_iter3.pt", "BEATs_iter3_plus_AS20K.pt",
                              "BEATs_iter3_plus_AS2M_finetuned_on_AS2M_cpt1.pt",
                              "BEATs_iter3_plus_AS2M_finetuned_on_AS2M_cpt2.pt"),
                    "github.com/microsoft/unilm/tree/master/beats (README download links)",
                    "MIT (microsoft/unilm LICENSE)"),
    WeightsManifest("audiomae", ("pretrained.pth",),
                    "github.com/facebookresearch/AudioMAE README (ViT-B, AS-2M pre-trained; Google Drive link)",
                    "CC BY-NC 4.0 (LICENSE file; the README says CC-BY 4.0): non-commercial"),
    WeightsManifest("audiomae-ft", ("finetuned.pth",),
                    "github.com/facebookresearch/AudioMAE README (ViT-B, AS-2M pre-trained + AS-2M fine-tuned), "
                    "or your own fine-tune on DINOS",
                    "CC BY-NC 4.0 (LICENSE file): non-commercial"),
    WeightsManifest("clap", ("630k-audioset-best.pt", "630k-best.pt", "630k-audioset-fusion-best.pt",
                              "630k-fusion-best.pt"),
                    "Hugging Face model repo lukewys/laion_clap (630k checkpoints; HTS-AT tiny)",
                    "CC0-1.0 (model card; code CC0-1.0)"),
    WeightsManifest("opera-ct", ("encoder-operaCT.ckpt",),
                    "Hugging Face model repo evelyn0414/OPERA (file encoder-operaCT.ckpt)",
                    "code MIT (OPERA LICENSE.txt); weights: not stated, pre-training data include CC BY-NC sets"),
    WeightsManifest("opera-gt", ("encoder-operaGT.ckpt",),
                    "Hugging Face model repo evelyn0414/OPERA (file encoder-operaGT.ckpt)",
                    "code MIT (OPERA LICENSE.txt); weights: not stated, pre-training data include CC BY-NC sets"),
    WeightsManifest("vggish", ("vggish-10086976.pth",),
                    "github.com/harritaylor/torchvggish releases v0.1 (PCA: vggish_pca_params-970ea276.pth, or the "
                    "TF vggish_pca_params.npz, for --encoder-opt pca=FILE)",
                    "Apache-2.0 (tensorflow/models, torchvggish)",
                    sha256_prefix={"vggish-10086976.pth": "10086976",  # torch.hub names carry the sha256 prefix
                                   "vggish_pca_params-970ea276.pth": "970ea276"}),
    *(WeightsManifest(enc, (f"{stem}.pth",), "github.com/hanprd/LISTEN, folder Models/ (git clone)",
                      "not stated by the release", release_dir=(LISTEN_ROOT_ENV, "Models"),
                      note=("absent from some copies of the release (e.g. the GitHub snapshot at 3f0718b, "
                            "whose Models/ lacks the file although the README lists it)"
                            if enc == "mobilenetv4-small" else ""))
      for enc, stem in (("listen", "LISTEN"), ("bc-resnet-3", "BC-ResNet-3"), ("mobilevit-xxs", "MobileViT-XXS"),
                        ("mobilenetv4-small", "MobileNetV4-Small"))),
)}


@dataclass
class Lookup:
    manifest: WeightsManifest
    found: Path | None
    how: str                         # "--checkpoint", the env var, "cache", or "" when nothing was found
    searched: list[str]


def _in_folder(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def locate(encoder: str, checkpoint: str | Path | None = None) -> Lookup:
    m = MANIFESTS[encoder]
    searched: list[str] = []
    if checkpoint is not None:
        return Lookup(m, Path(checkpoint), "--checkpoint", [str(checkpoint)])
    env = os.environ.get(m.env_var)
    if not env:
        searched.append(f"${m.env_var} (unset)")
    else:
        p = Path(env)
        hit = p if p.is_file() else (_in_folder(p, m.files) if p.is_dir() else None)
        searched.append(f"${m.env_var}={env}")
        if hit:
            return Lookup(m, hit, f"${m.env_var}", searched)
    if m.release_dir is not None:
        var, sub = m.release_dir
        root = os.environ.get(var)
        searched.append(f"${var}/{sub} " + (f"({Path(root) / sub})" if root else "(unset)"))
        hit = _in_folder(Path(root) / sub, m.files) if root else None
        if hit:
            return Lookup(m, hit, f"${var}", searched)
    searched.append(str(m.cache_dir()))
    hit = _in_folder(m.cache_dir(), m.files)
    if hit is None and m.note:
        searched.append(f"note: {m.files[0]} is {m.note}")
    return Lookup(m, hit, "cache" if hit else "", searched)
