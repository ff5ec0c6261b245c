"""Pretraining loop: single process, or DDP under ``torchrun`` (gloo on CPU, nccl on CUDA).

Global batch = ``batch_size`` split evenly over ranks; ``DistributedSampler`` (seeded, set per
epoch) gives rank r the r-th of every ``world`` samples, so the union of the ranks' batches at a
step is the single-process batch, and per-sample masks are seeded by (seed, epoch, index) — a
2-process run follows the 1-process loss curve. Checkpoints are atomic, one per epoch (and one
when ``max_steps`` stops a run mid-epoch), and hold everything an exact resume needs.
"""
from __future__ import annotations

import json
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

import impact_bench
from impact_bench import distributed, faults
from impact_bench.errors import ImpactBenchError
from impact_bench.impact import checkpoint as ckpt
from impact_bench.impact.config import ImpactConfig
from impact_bench.impact.model import SpecFrontend
from impact_bench.impact.objective import ImpactStudent, ema_update, make_teacher, pretraining_loss
from impact_bench.impact.pretrain_data import PretrainClips, PretrainIndex

LOG_NAME = "train_log.jsonl"


class TrainingError(ImpactBenchError):
    """Training cannot start or cannot go on (bad options, diverged loss, …)."""


@dataclass
class TrainRequest:
    config: ImpactConfig
    index: PretrainIndex
    out: Path
    dataset_name: str = "custom"
    max_steps: int | None = None
    resume: Path | None = None
    trust_checkpoint: bool = False  # full pickle for --resume (only for files from a source you trust)
    device: str = "cpu"
    precision: str | None = None  # bf16 | fp16 | fp32; default bf16 on CUDA, fp32 on CPU
    seed: int = 42                # IMPACT_pretraining seed 42
    workers: int = 0
    progress: bool = True
    data_info: dict[str, Any] = field(default_factory=dict)


class _Step(torch.nn.Module):
    """What DDP wraps: the student's loss on a batch (teacher targets are computed inside, no grad)."""

    def __init__(self, student: ImpactStudent) -> None:
        super().__init__()
        self.student = student

    def forward(self, spec: torch.Tensor, keep: torch.Tensor, teacher: torch.nn.Module) -> dict[str, torch.Tensor]:
        return pretraining_loss(self.student, teacher, spec, keep)


def epoch_lr(cfg: ImpactConfig, epoch: int, step: int) -> float:
    """CosineAnnealingLR(T_max=epochs, eta_min) stepped per epoch (closed form), optional linear warm-up."""
    o = cfg.optim
    lr = o.lr_min + (o.lr - o.lr_min) * (1 + math.cos(math.pi * epoch / o.epochs)) / 2
    return lr * min(1.0, (step + 1) / o.warmup_steps) if o.warmup_steps else lr


def _autocast(device: torch.device, precision: str):
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def _existing_checkpoints(out: Path) -> list[Path]:
    return sorted(out.glob("impact_*.pth")) if out.is_dir() else []


def train(req: TrainRequest) -> Path:
    """Run (or resume) pretraining; returns the last checkpoint written."""
    cfg = req.config
    ranks = distributed.setup(req.device)
    rank, world, device = ranks.rank, ranks.world, ranks.device
    precision = req.precision or ("bf16" if device.type == "cuda" else "fp32")
    if precision not in ("bf16", "fp16", "fp32"):
        raise TrainingError(f"--precision must be bf16, fp16 or fp32, got {precision!r}")
    if precision == "fp16" and device.type != "cuda":
        raise TrainingError("--precision fp16 needs a CUDA device (use bf16 or fp32 on CPU)")
    global_bs = cfg.optim.batch_size
    if global_bs % world:
        raise TrainingError(f"batch size {global_bs} is not divisible by the {world} processes")
    local_bs = global_bs // world
    steps_per_epoch = (len(req.index) // world) // local_bs
    if steps_per_epoch == 0:
        raise TrainingError(f"{len(req.index)} clips cannot fill one batch of {global_bs}; lower --batch-size")
    if req.resume is None and _existing_checkpoints(req.out):
        raise TrainingError(f"{req.out} already holds checkpoints ({_existing_checkpoints(req.out)[-1].name}); "
                            f"continue with --resume FILE or choose another --out (nothing was overwritten)")

    torch.manual_seed(req.seed)
    student = ImpactStudent(cfg).to(device)
    teacher = make_teacher(student).to(device)
    optim = torch.optim.AdamW(student.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")
    epoch, done, step = 0, 0, 0
    if req.resume is not None:
        epoch, done, step = _restore(req.resume, cfg, student, teacher, optim, scaler, req.trust_checkpoint)
    frontend = SpecFrontend(cfg.frontend).to(device)
    model: torch.nn.Module = _Step(student)
    if world > 1:
        model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    data = PretrainClips(req.index, cfg.frontend.sample_rate, cfg.frontend.clip_samples, cfg.grid, cfg.num_keep,
                         cfg.objective.clones, cfg.objective.mask_block, req.seed)
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=req.seed, drop_last=True)
    log_path = req.out / LOG_NAME
    if rank == 0:
        req.out.mkdir(parents=True, exist_ok=True)
        _trim_log(log_path, step)
    last: Path | None = None
    total_steps = cfg.optim.epochs * steps_per_epoch
    bar = tqdm(total=min(total_steps, req.max_steps or total_steps), initial=step, unit="step",
               disable=not req.progress or rank != 0, desc=f"train {cfg.preset}")
    while epoch < cfg.optim.epochs:
        sampler.set_epoch(epoch)
        data.epoch = epoch
        order = list(sampler)
        batches = [order[i * local_bs:(i + 1) * local_bs] for i in range(done, steps_per_epoch)]
        loader = DataLoader(data, batch_sampler=batches, num_workers=req.workers)
        student.train()
        for wave, keep in loader:
            tic = time.perf_counter()
            lr = epoch_lr(cfg, epoch, step)
            for group in optim.param_groups:
                group["lr"] = lr
            with torch.no_grad():
                spec = frontend(wave.to(device))
            with _autocast(device, precision):
                losses = model(spec, keep.to(device), teacher)
            optim.zero_grad(set_to_none=True)
            scaler.scale(losses["loss"]).backward()
            scaler.unscale_(optim)
            torch.nn.utils.clip_grad_norm_(student.parameters(), cfg.optim.grad_clip)
            scaler.step(optim)
            scaler.update()
            if cfg.objective.ema_every == "step":
                ema_update(teacher, student, cfg.objective.ema_momentum)
            step, done = step + 1, done + 1
            stats = _reduce({k: v.detach().float() for k, v in losses.items()}, world)
            if not all(math.isfinite(v) for v in stats.values()):
                good = last or (req.resume if req.resume else None)
                raise TrainingError(f"loss became {stats['loss']} at step {step} (epoch {epoch + 1}); stopped. "
                                    f"Last good checkpoint: {good or 'none yet'}. Try a lower --lr or fp32.")
            rate = global_bs / max(time.perf_counter() - tic, 1e-9)
            if rank == 0:
                _append_log(log_path, {"step": step, "epoch": epoch + 1, "lr": lr, **stats, "clips_per_s": rate})
                bar.set_postfix(loss=f"{stats['loss']:.4f}", frame=f"{stats['frame']:.4f}",
                                utter=f"{stats['utter']:.4f}", clips_s=f"{rate:.0f}")
                bar.update(1)
            if req.max_steps is not None and step >= req.max_steps:
                break
        if done == steps_per_epoch:
            if cfg.objective.ema_every == "epoch":
                ema_update(teacher, student, cfg.objective.ema_momentum)
            epoch, done = epoch + 1, 0
            name = f"impact_{req.dataset_name}_epoch_{epoch:04d}.pth"
        else:
            name = f"impact_{req.dataset_name}_step_{step:07d}.pth"
        last = req.out / name
        if rank == 0:
            ckpt.write_atomic(last, _payload(req, cfg, student, teacher, optim, scaler, epoch, done, step, world,
                                             precision))
            faults.point("checkpoint-save")  # tests only (impact_bench/faults.py)
        if req.max_steps is not None and step >= req.max_steps:
            break
    bar.close()
    distributed.barrier(ranks)
    if last is None:
        raise TrainingError("nothing to do: the checkpoint already finished every epoch (raise --epochs to go on)")
    return last


def _reduce(stats: dict[str, torch.Tensor], world: int) -> dict[str, float]:
    vec = torch.stack(list(stats.values())).cpu()
    if world > 1:
        dist.all_reduce(vec)
        vec /= world
    return {k: float(v) for k, v in zip(stats, vec)}


def _append_log(path: Path, row: dict[str, Any]) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(row) + "\n")


def _trim_log(path: Path, step: int) -> None:
    """On resume, drop log rows past the checkpoint's step so the log equals an uninterrupted run's."""
    if path.exists():
        rows = [ln for ln in path.read_text().splitlines() if ln.strip() and json.loads(ln)["step"] <= step]
        path.write_text("".join(r + "\n" for r in rows))


def read_log(out: Path) -> list[dict[str, Any]]:
    path = Path(out) / LOG_NAME
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()] if path.exists() else []


def _payload(req: TrainRequest, cfg: ImpactConfig, student: ImpactStudent, teacher: torch.nn.Module,
             optim: torch.optim.Optimizer, scaler: torch.amp.GradScaler, epoch: int, done: int, step: int,
             world: int, precision: str) -> dict[str, Any]:
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return {
        "format": ckpt.FORMAT, "format_version": ckpt.FORMAT_VERSION, "preset": cfg.preset, "config": cfg.to_dict(),
        "epoch": epoch, "batches_done_in_epoch": done, "step": step,
        "model_state_dict": student.state_dict(), "teacher_state_dict": teacher.state_dict(),
        "optimizer_state_dict": optim.state_dict(), "scaler_state_dict": scaler.state_dict(), "rng": rng,
        "train": {"seed": req.seed, "world_size": world, "precision": precision, "max_steps": req.max_steps,
                  "dataset": req.dataset_name, "data": req.data_info},
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "torch_version": str(torch.__version__),
        "impact_bench_version": impact_bench.__version__,
    }


def _restore(path: Path, cfg: ImpactConfig, student: ImpactStudent, teacher: torch.nn.Module,
             optim: torch.optim.Optimizer, scaler: torch.amp.GradScaler, trust: bool = False) -> tuple[int, int, int]:
    obj = ckpt.read_checkpoint(path, trust)
    if not ckpt.is_ours(obj):
        raise TrainingError(f"{path}: --resume needs a checkpoint written by `impact-bench train` "
                            f"(an authors' file holds no optimizer/teacher state to resume from)")
    saved = obj["config"]
    now = cfg.to_dict()
    diff = [f"{s}.{k}: {saved[s][k]!r} → {now[s][k]!r}" for s in now if isinstance(now[s], dict)
            for k in now[s] if saved.get(s, {}).get(k) != now[s][k] and (s, k) != ("optim", "epochs")]
    if diff:
        raise TrainingError(f"{path}: the resumed run's config differs from the checkpoint's (only --epochs may "
                            f"change): {'; '.join(diff[:8])}")
    student.load_state_dict(obj["model_state_dict"], strict=True)
    teacher.load_state_dict(obj["teacher_state_dict"], strict=True)
    optim.load_state_dict(obj["optimizer_state_dict"])
    scaler.load_state_dict(obj["scaler_state_dict"])
    torch.set_rng_state(obj["rng"]["torch"])
    if "cuda" in obj["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(obj["rng"]["cuda"])
    return int(obj["epoch"]), int(obj["batches_done_in_epoch"]), int(obj["step"])
