"""``impact-bench select-backend``: choose the back end on the dev set, and the eval run's side of it.

The selection run reads the dev set only: it scans the data root, keeps the dev clips, hashes and
embeds them (through the content-addressed embedding cache, so a later ``run`` reuses every dev
embedding and each candidate costs only fitting and scoring), scores every candidate back end with
the official score (``anomaly.selection``) and writes the choice to a selection file. No results file
is written or replaced.

``run --backend-from FILE`` then (:func:`selected_backend`) applies the chosen configuration — refusing
a file made for another suite or encoder before any work — and (:func:`first_shot_stamp`) checks the
built encoder and the run's dev clips against the file and records ``protocol.first_shot``.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Callable

from impact_bench import __version__, distributed, readers
from impact_bench.anomaly import selection as sel_mod
from impact_bench.anomaly.scoring import backend_config
from impact_bench.anomaly.supplementary import SPLIT as SUPPLEMENTARY_SPLIT
from impact_bench.encoders.catalog import build_encoder, resolve_factory
from impact_bench.encoders.protocol import identity
from impact_bench.extract import data_fingerprint, hash_clips
from impact_bench.pipeline import common
from impact_bench.pipeline.options import OptionError, RunRequest, channel_label_suffix, check_options, with_channel
from impact_bench.suites.catalog import get_suite
from impact_bench.suites.spec import AnomalySuiteSpec

Log = Callable[[str], None]


def default_output(suite: str, label: str) -> Path:
    """``selection__<suite>__<encoder>.json`` in the working folder."""
    return Path(f"selection__{suite}__{re.sub(r'[^A-Za-z0-9._-]+', '-', label).strip('-')}.json")


def _anomaly_spec(req: RunRequest) -> AnomalySuiteSpec:
    spec = with_channel(req, get_suite(req.suite, req.tasks_dirs))  # --channel: the stereo suites' policy
    if not isinstance(spec, AnomalySuiteSpec) or spec.protocol.scheme != "unsupervised" \
            or spec.data.layout != "dcase":
        raise OptionError(f"select-backend applies to the unsupervised DCASE suites (dcase20XX and their -synth "
                          f"stand-ins); {req.suite} is not one")
    return spec


def select_backend(req: RunRequest, candidates: list[dict[str, Any]] | None, output: Path | None,
                   overwrite: bool = False, log: Log = print) -> Path:
    """Score ``candidates`` (default: every back end × inductive normalisation) on the dev set; write the
    selection file; return its path. ``req.backend`` holds overrides applied to every candidate."""
    t0 = time.perf_counter()
    spec = _anomaly_spec(req)
    if req.backend_from is not None:
        raise OptionError("--backend-from applies to `run`; select-backend writes a selection file")
    check_options(req, spec)
    if output is not None and Path(output).exists() and not overwrite:  # fail before any work
        raise sel_mod.SelectionError(f"{output} exists; pass --overwrite to replace it, or -o to write elsewhere")
    factory = resolve_factory(req.encoder, req.autoload_plugins)
    root = common.resolve_data_root(spec, req.data_root)
    index = readers.scan(spec, root, readers.ScanOptions(machines=tuple(req.machines)))
    dev = [index.clips[i] for i in _dev_rows(index.clips)]  # the eval set is never read
    if not dev:
        raise sel_mod.SelectionError(f"suite {spec.name}: no dev-set clips under {root}"
                                     + (f" for machine types {list(req.machines)}" if req.machines else ""))
    ranks = distributed.setup(req.device)
    encoder = build_encoder(req.encoder, checkpoint=req.checkpoint, device=str(ranks.device),
                            options=req.encoder_options, factory=factory)
    label = req.label or (encoder.name if ":" in req.encoder else req.encoder) + channel_label_suffix(req)
    output = Path(output) if output is not None else default_output(spec.name, label)
    if output.exists() and not overwrite:
        raise sel_mod.SelectionError(f"{output} exists; pass --overwrite to replace it, or -o to write elsewhere")
    hashes = hash_clips(dev, req.progress)
    fingerprint = data_fingerprint(dev, hashes)
    p = common.Prepared(req=req, spec=spec, ranks=ranks, log=log, encoder=encoder, label=label, index=index,
                        clips=dev, hashes=hashes, fingerprint=fingerprint, coverage={}, options={}, final=output,
                        t_start=t0)
    ext = common.embed(p)
    cands = candidates if candidates is not None else sel_mod.default_candidates()
    log(f"scoring {len(cands)} back-end configurations on the {len(dev)} dev clips "
        f"({', '.join(sorted({c.machine for c in dev}))})")
    from tqdm import tqdm

    with tqdm(total=len(cands), desc="back ends (dev)", unit="config", disable=not req.progress) as bar:
        def step(c: sel_mod.Candidate) -> None:
            bar.set_postfix_str(sel_mod.candidate_label(c.options))
            bar.update(1)
        results = sel_mod.evaluate_candidates(spec, dev, ext.embeddings, cands, req.backend, step=step)
    best = sel_mod.choose(results)
    for i, c in enumerate(results):
        score = f"{c.dev_score:.4f}" if c.dev_score is not None else f"not scored ({c.error})"
        log(f"{'*' if i == best else ' '} {sel_mod.candidate_label(c.options):<40} {score}")
    encoder_rec = {"request": req.encoder, "label": label, "checkpoint": req.checkpoint,
                   "options": req.encoder_options, "identity": identity(encoder)}
    data = {"fingerprint": fingerprint, "machines": sorted({c.machine for c in dev}), "data_root": str(root),
            "channel_policy": _channel(spec), "supplementary": "ignore",
            "embeddings": {"computed": ext.computed, "cached": ext.cached}}
    content = sel_mod.build_selection(spec, encoder_rec, data, results, best, __version__)
    sel_mod.write_selection(output, content, overwrite)
    log(f"chose {sel_mod.candidate_label(results[best].options)} (dev score {results[best].dev_score:.4f}); "
        f"wrote {output}" + (" [SYNTHETIC data]" if spec.synthetic else "")
        + f"; apply it with: impact-bench run --suite {spec.name} --encoder {req.encoder}"
        + (f" --channel {req.channel}" if req.channel else "") + f" --backend-from {output}")
    return output


def _dev_rows(clips: list[Any]) -> list[int]:
    """The dev set's training and test clips (never DCASE 2025's supplementary recordings)."""
    return [i for i, c in enumerate(clips) if c.set == sel_mod.SELECTED_ON and c.split != SUPPLEMENTARY_SPLIT]


def _channel(spec: AnomalySuiteSpec) -> str | None:
    """Which channel(s) of a near/far stereo file were embedded (None: mono suites)."""
    return getattr(spec.audio, "channel_policy", None)


def selected_backend(req: RunRequest, spec: AnomalySuiteSpec) -> dict[str, Any]:
    """The run's back-end overrides: the selection's choice (``--backend-from``), then ``--backend-opt``
    on top. A file made for another suite, suite version or encoder is refused here, before any work."""
    if req.backend_from is None:
        return dict(req.backend)
    sel, _ = sel_mod.read_selection(req.backend_from)
    sel_mod.check_suite(sel, req.backend_from, spec)
    sel_mod.check_encoder(sel, req.backend_from, request=req.encoder)
    if sel["data"].get("channel_policy") != _channel(spec):
        raise sel_mod.SelectionError(f"--backend-from {req.backend_from}: made for data.channel_policy "
                                     f"{sel['data'].get('channel_policy')!r}, but this run has {_channel(spec)!r}; "
                                     f"pass the same --channel to both commands")
    return {**sel["chosen"]["options"], **req.backend}


def first_shot_stamp(req: RunRequest, spec: AnomalySuiteSpec, p: common.Prepared, cfg: Any) -> dict[str, Any] | None:
    """``protocol.first_shot`` of a finished unsupervised run (None for non-DCASE layouts). With
    ``--backend-from`` the built encoder and the run's dev clips must be those the selection was made on."""
    if cfg is None or spec.data.layout != "dcase":
        return None
    default = backend_config(spec, {}).as_dict()
    selection = None
    if req.backend_from is not None:
        sel, sha = sel_mod.read_selection(req.backend_from)
        sel_mod.check_suite(sel, req.backend_from, spec)
        sel_mod.check_encoder(sel, req.backend_from, request=req.encoder, identity=identity(p.encoder))
        dev = _dev_rows(p.clips)  # supplementary recordings (--supplementary) are not part of the selection data
        if dev:  # an eval-only run (e.g. --machines with eval types only) has no dev clips to compare
            sel_mod.check_data(sel, req.backend_from,
                               data_fingerprint([p.clips[i] for i in dev], [p.hashes[i] for i in dev]))
        selection = (Path(req.backend_from).resolve(), sel, sha)
    rec = sel_mod.first_shot_record(spec, cfg.as_dict(), default, selection)
    if rec is not None and selection is not None:
        rec["dev_data_verified"] = bool(_dev_rows(p.clips))
    return rec
