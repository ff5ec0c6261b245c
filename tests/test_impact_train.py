"""IMPACT pretraining: reader, loss decrease, checkpoints, exact resume, DDP (gloo), paper preset, bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from impact_bench.cli import main as cli
from impact_bench.errors import DataError
from impact_bench.impact import objective
from impact_bench.impact.checkpoint import load_encoder, read_checkpoint
from impact_bench.impact.config import preset
from impact_bench.impact.pretrain_data import PretrainClips, scan
from impact_bench.impact.train import TrainingError, TrainRequest, read_log, train

TINY = {"model": {"embed_dim": 32, "depth": 2, "num_heads": 4}, "objective": {"decoder_dim": 16, "clones": 4},
        "optim": {"batch_size": 8, "lr": 1e-3, "epochs": 3}}
TINY_FLAGS = ["--set", "model.embed_dim=32", "--set", "model.depth=2", "--set", "model.num_heads=4",
              "--set", "objective.decoder_dim=16", "--set", "objective.clones=4", "--batch-size", "8", "--lr", "1e-3"]


def write_wav(path: Path, data: np.ndarray, rate: int = 48_000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, rate, subtype="PCM_16")


def tiny(name: str = "reference", **optim):
    return preset(name).replace(**{**TINY, "optim": {**TINY["optim"], **optim}})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Two categories × 2 recordings of 3–4 s: tones vs noise, one at 16 kHz stereo."""
    root = tmp_path_factory.mktemp("pretrain") / "DINOS_Pretrain"
    rng = np.random.default_rng(0)
    t = np.arange(4 * 48_000) / 48_000
    for i, f0 in enumerate((440.0, 1200.0)):
        write_wav(root / "CNC" / "day1" / f"tone{i}.wav", (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32))
    write_wav(root / "ShopFloor" / "n0.wav", (0.1 * rng.standard_normal(3 * 48_000)).astype(np.float32))
    stereo = (0.1 * rng.standard_normal((3 * 16_000 + 100, 2))).astype(np.float32)
    write_wav(root / "ShopFloor" / "n1_16k.wav", stereo, rate=16_000)
    return root.parent


def request(corpus: Path, out: Path, cfg=None, **kw) -> TrainRequest:
    index = scan(corpus)
    return TrainRequest(config=cfg or tiny(), index=index, out=out, dataset_name="test", progress=False, **kw)


def test_reader_clips_categories_and_skips(corpus, tmp_path):
    index = scan(corpus)
    assert index.summary()["categories"] == {"CNC": {"recordings": 2, "clips": 8},
                                             "ShopFloor": {"recordings": 2, "clips": 7}}  # ceil(3.006 s) = 4
    data = PretrainClips(index, 48_000, 48_000, 4, 3, 16, 4, seed=0)
    wave, keep = data[len(data) - 1]  # last second of the 16-kHz file: 100 samples → zero-padded
    assert wave.shape == (48_000,) and keep.shape == (16, 3)
    assert np.abs(wave[:250].numpy()).max() > 0 and np.abs(wave[400:].numpy()).max() == 0
    np.testing.assert_array_equal(data[3][1], data[3][1])  # masks depend on (seed, epoch, index) only
    data.epoch = 1
    assert not np.array_equal(data[3][1], PretrainClips(index, 48_000, 48_000, 4, 3, 16, 4, seed=0)[3][1])
    # unreadable and too-short files are reported and skipped
    mess = tmp_path / "mess"
    write_wav(mess / "A" / "ok.wav", np.zeros(96_000, np.float32))
    write_wav(mess / "A" / "short.wav", np.zeros(20_000, np.float32))
    (mess / "B").mkdir()
    (mess / "B" / "broken.wav").write_bytes(b"RIFF....garbage")
    index = scan(mess, balance="none")
    assert len(index.recordings) == 1 and len(index) == 2
    assert sorted(p for p, _ in index.skipped) == ["A/short.wav", "B/broken.wav"]
    assert "shorter than 1 s" in dict(index.skipped)["A/short.wav"]
    with pytest.raises(DataError, match="no readable audio"):
        scan(mess / "B")


def test_balance_keeps_equal_recordings_per_category(tmp_path):
    for k in range(3):
        write_wav(tmp_path / "big" / f"{k}.wav", np.zeros(48_000, np.float32))
    write_wav(tmp_path / "small" / "0.wav", np.zeros(48_000, np.float32))
    assert scan(tmp_path).summary()["categories"] == {"big": {"recordings": 1, "clips": 1},
                                                     "small": {"recordings": 1, "clips": 1}}
    assert scan(tmp_path).dropped_for_balance == 2 and len(scan(tmp_path, balance="none")) == 4


def test_loss_decreases_and_checkpoint_round_trip(corpus, tmp_path):
    # The reference targets are the EMA teacher's un-normalised layer averages, which drift and grow as
    # the weights move, so its raw loss is not monotone; with the teacher held fixed (momentum 1) the
    # targets stand still and the student must fit them.
    cfg = tiny(epochs=50).replace(objective={"ema_momentum": 1.0})
    last = train(request(corpus, tmp_path / "run", cfg, max_steps=50))
    log = read_log(tmp_path / "run")
    assert [r["step"] for r in log] == list(range(1, 51))
    first, final = np.mean([r["loss"] for r in log[:5]]), np.mean([r["loss"] for r in log[-5:]])
    assert final < 0.5 * first, (first, final)
    assert {"frame", "utter", "lr", "clips_per_s"} <= set(log[0])
    # one checkpoint per finished epoch (15 clips // 8 = 1 step per epoch) and one where max_steps stopped
    assert (tmp_path / "run" / "impact_test_epoch_0050.pth").exists() and last.name == "impact_test_epoch_0050.pth"
    obj = read_checkpoint(last)  # weights_only=True works on our own files
    model, info = load_encoder(last)
    assert info["checkpoint_format"] == "impact-bench" and model.cfg == cfg
    student = objective.ImpactStudent(model.cfg)
    student.load_state_dict(obj["model_state_dict"])
    for k, v in student.encoder_state_dict().items():
        torch.testing.assert_close(model.state_dict()[k], v)
    teacher, _ = load_encoder(last, weights="teacher")
    assert not torch.equal(teacher.cls_token, model.cls_token)  # the student moved, the frozen teacher did not
    with pytest.raises(TrainingError, match="already holds checkpoints"):
        train(request(corpus, tmp_path / "run", tiny(), max_steps=1))


def test_resume_equals_uninterrupted_run(corpus, tmp_path):
    cfg = tiny(epochs=4)
    train(request(corpus, tmp_path / "full", cfg))
    train(request(corpus, tmp_path / "cut", cfg, max_steps=2))
    ckpt = tmp_path / "cut" / "impact_test_epoch_0002.pth"
    train(request(corpus, tmp_path / "cut", cfg, resume=ckpt))
    a, b = read_checkpoint(tmp_path / "full" / "impact_test_epoch_0004.pth"), read_checkpoint(
        tmp_path / "cut" / "impact_test_epoch_0004.pth")
    for key in ("model_state_dict", "teacher_state_dict"):
        for name, tensor in a[key].items():
            assert torch.equal(tensor, b[key][name]), name
    assert [r["loss"] for r in read_log(tmp_path / "full")] == [r["loss"] for r in read_log(tmp_path / "cut")]
    assert a["step"] == b["step"] == 4


def test_resume_mid_epoch_is_exact(corpus, tmp_path):
    cfg = tiny(batch_size=4, epochs=1)  # 15 clips // 4 = 3 steps in the epoch
    train(request(corpus, tmp_path / "full", cfg))
    train(request(corpus, tmp_path / "cut", cfg, max_steps=1))
    train(request(corpus, tmp_path / "cut", cfg, resume=tmp_path / "cut" / "impact_test_step_0000001.pth"))
    a = read_checkpoint(tmp_path / "full" / "impact_test_epoch_0001.pth")["model_state_dict"]
    b = read_checkpoint(tmp_path / "cut" / "impact_test_epoch_0001.pth")["model_state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_paper_preset_trains(corpus, tmp_path):
    cfg = tiny("paper", epochs=20)
    assert cfg.objective.frame_target == "reconstruction" and cfg.model.stem_norm and cfg.num_keep == 4
    train(request(corpus, tmp_path / "paper", cfg, max_steps=20))
    log = read_log(tmp_path / "paper")
    assert np.mean([r["frame"] for r in log[-3:]]) < np.mean([r["frame"] for r in log[:3]])
    obj = read_checkpoint(tmp_path / "paper" / "impact_test_epoch_0020.pth")
    assert obj["preset"] == "paper" and "patch_embed.norm.running_mean" in obj["model_state_dict"]
    model, info = load_encoder(tmp_path / "paper" / "impact_test_epoch_0020.pth")
    assert info["preset"] == "paper" and model.cfg.model.num_heads == 4  # the stored config, no flags needed


def test_nan_loss_stops_and_keeps_last_good_checkpoint(corpus, tmp_path, monkeypatch):
    real = objective.pretraining_loss
    calls = {"n": 0}

    def flaky(*args):
        calls["n"] += 1
        out = real(*args)
        if calls["n"] == 3:
            out["loss"] = out["loss"] * float("nan")
            out["frame"] = out["frame"] * float("nan")
        return out

    monkeypatch.setattr("impact_bench.impact.train.pretraining_loss", flaky)
    with pytest.raises(TrainingError, match=r"loss became nan at step 3.*impact_test_epoch_0002\.pth"):
        train(request(corpus, tmp_path / "nan", tiny(epochs=5)))
    assert sorted(p.name for p in (tmp_path / "nan").glob("*.pth")) == ["impact_test_epoch_0001.pth",
                                                                       "impact_test_epoch_0002.pth"]


def test_cli_train_and_score(corpus, tmp_path, tiny_tree, capsys):
    out = tmp_path / "cli"
    assert cli(["train", "--data", str(corpus), "--out", str(out), "--max-steps", "2", "--quiet", *TINY_FLAGS]) == 0
    ckpt = out / "impact_DINOS_epoch_0002.pth"
    assert ckpt.exists() and "2 categories" in capsys.readouterr().out
    assert cli(["train", "--resume", str(ckpt), "--data", str(corpus), "--out", str(out), "--lr", "1"]) == 2
    assert "drop --lr" in capsys.readouterr().err
    assert cli(["run", "--encoder", "impact", "--checkpoint", str(ckpt), "--suite", "dinos-synth", "--data-root",
                str(tiny_tree), "--seeds", "1", "--out", str(tmp_path / "res"), "--quiet"]) == 0
    res = json.loads((tmp_path / "res" / "dinos-synth__impact.json").read_text())
    assert res["encoder"]["embedding_dim"] == 32 and res["encoder"]["config"]["checkpoint_format"] == "impact-bench"
    assert cli(["run", "--encoder", "impact", "--suite", "dinos-synth", "--data-root", str(tiny_tree)]) == 2
    assert "impact-bench train" in capsys.readouterr().err
    assert cli(["train", "--out", str(tmp_path / "x")]) == 2
    assert "--data DIR" in capsys.readouterr().err


def test_two_process_gloo_follows_single_process(corpus, tmp_path):
    common = ["--data", str(corpus), "--max-steps", "6", "--quiet", *TINY_FLAGS]
    assert cli(["train", "--out", str(tmp_path / "one"), *common]) == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                           str(29_500 + os.getpid() % 1000), "-m", "impact_bench.cli", "train",
                           "--out", str(tmp_path / "two"), *common], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)  # not the repo root: the source tree would shadow the install
    assert proc.returncode == 0, proc.stderr[-3000:]
    one, two = read_log(tmp_path / "one"), read_log(tmp_path / "two")
    assert len(one) == len(two) == 6
    np.testing.assert_allclose([r["loss"] for r in two], [r["loss"] for r in one], rtol=1e-4, atol=1e-5)
    assert read_checkpoint(tmp_path / "two" / "impact_DINOS_epoch_0006.pth")["train"]["world_size"] == 2
