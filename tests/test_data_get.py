"""``impact-bench data get`` against a local server that speaks the Zenodo records API, the Dataverse
native API and GitHub's archive URLs, serving tiny archives built here in the official layouts
(the synthetic writers' trees, zipped as the real records zip them)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np
import pytest
import soundfile as sf

from impact_bench import readers
from impact_bench.anomaly.dataset import DINOS_NORMAL
from impact_bench.datasets import get as data_get
from impact_bench.datasets import manifest
from impact_bench.datasets.download import ResumableDownloader
from impact_bench.datasets.remote import DownloadError
from impact_bench.datasets.sources import LISTEN_REF, SOURCES, source_for
from impact_bench.datasets.unpack import UnsafeArchiveError, extract
from impact_bench.errors import DataError
from impact_bench.suites.catalog import get_suite
from impact_bench.suites.listen import read_manifest


class FakeHosts:
    """Zenodo ``/api/records/<id>`` (+ ``files/<key>/content``), Dataverse ``/api/datasets/:persistentId/`` (+
    ``/api/access/datafile/<id>``) and GitHub ``/<owner>/<repo>/archive/<ref>.zip``, with Range support, a
    one-shot connection drop after N bytes, and a one-shot corrupted body."""

    def __init__(self) -> None:
        self.zenodo: dict[str, dict[str, bytes]] = {}
        self.dataverse: dict[str, bytes] = {}      # file path in the dataset -> bytes
        self.github: dict[str, bytes] = {}         # "/owner/repo/archive/ref.zip" -> bytes
        self.drop_after: dict[str, int] = {}       # file path -> bytes sent before the connection drops (once)
        self.corrupt_once: set[str] = set()
        self.requests: list[tuple[str, str | None, int]] = []  # (path, Range header, body bytes sent)
        hosts = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                hosts.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def files_sent(self, name: str) -> list[tuple[str, str | None, int]]:
        return [r for r in self.requests if r[0].endswith(name) or r[0].endswith(name + "/content")]

    def _json(self, h, obj) -> None:
        body = json.dumps(obj).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def handle(self, h) -> None:
        u = urlparse(h.path)
        parts = [unquote(p) for p in u.path.strip("/").split("/")]
        if parts[:2] == ["api", "records"] and len(parts) == 3 and parts[2] in self.zenodo:
            rec = parts[2]
            return self._json(h, {"id": int(rec), "metadata": {"license": {"id": "cc-by-sa-4.0"}}, "files": [
                {"key": k, "size": len(b), "checksum": "md5:" + hashlib.md5(b).hexdigest(),
                 "links": {"self": f"{self.url}/api/records/{rec}/files/{k}/content"}}
                for k, b in self.zenodo[rec].items()]})
        if parts[:2] == ["api", "records"] and len(parts) == 6 and parts[2] in self.zenodo:
            return self._send(h, u.path, self.zenodo[parts[2]].get(parts[4]))
        if parts[:3] == ["api", "datasets", ":persistentId"]:
            assert parse_qs(u.query)["persistentId"] == ["doi:10.7910/DVN/FWAZBQ"]
            files = [{"label": Path(n).name, "directoryLabel": str(Path(n).parent) if "/" in n else None,
                      "restricted": False, "dataFile": {"id": i, "filesize": len(b),
                                                        "checksum": {"type": "MD5", "value": hashlib.md5(b).hexdigest()}}}
                     for i, (n, b) in enumerate(self.dataverse.items())]
            return self._json(h, {"status": "OK", "data": {"latestVersion": {
                "license": {"name": "CC BY 4.0", "uri": "http://creativecommons.org/licenses/by/4.0"}, "files": files}}})
        if parts[:3] == ["api", "access", "datafile"]:
            return self._send(h, u.path, list(self.dataverse.values())[int(parts[3])])
        return self._send(h, u.path, self.github.get(u.path))

    def _send(self, h, path: str, body: bytes | None) -> None:
        if body is None:
            h.send_error(404)
            return
        rng, start = h.headers.get("Range"), 0
        if path in self.corrupt_once:
            self.corrupt_once.discard(path)
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(body):
                h.send_error(416)
                return
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            h.send_response(200)
        h.send_header("Content-Length", str(len(body) - start))
        h.send_header("Accept-Ranges", "bytes")
        h.end_headers()
        chunk = body[start:]
        if path in self.drop_after:  # send part of the body, then cut the connection
            chunk = chunk[: self.drop_after.pop(path)]
            h.close_connection = True
        h.wfile.write(chunk)
        h.wfile.flush()
        self.requests.append((path, rng, len(chunk)))
        if h.close_connection:
            h.connection.shutdown(socket.SHUT_RDWR)


def _zip(tree: Path, members: list[Path], prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for p in members:
            z.write(p, prefix + p.relative_to(tree).as_posix())
    return buf.getvalue()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture()
def hosts(monkeypatch):
    h = FakeHosts()
    for env in ("ZENODO", "DATAVERSE", "GITHUB"):
        monkeypatch.setenv(f"IMPACT_BENCH_{env}_URL", h.url)
    yield h
    h.server.shutdown()
    h.server.server_close()


def _wav(path: Path, rate: int = 16000, seconds: float = 0.25, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.random.default_rng(seed).normal(0, 0.1, int(rate * seconds)).astype(np.float32), rate,
             subtype="PCM_16")
    return path


def _dcase2023_tree(root: Path, dev_m: str = "fan", ev_m: str = "bandsaw") -> None:
    """The smallest tree the DCASE 2023 reader and metrics accept, named as the official zips name files."""
    n = 0
    for m, folder in ((dev_m, "dev_data"), (ev_m, "eval_data")):
        for dom, count in (("source", 4), ("target", 2)):
            for i in range(count):
                n += 1
                _wav(root / folder / m / "train" / f"section_00_{dom}_train_normal_{i:04d}_a_1.wav", seed=n)
    for dom in ("source", "target"):
        for lab in ("normal", "anomaly"):
            for i in range(2):
                n += 1
                _wav(root / "dev_data" / dev_m / "test" / f"section_00_{dom}_test_{lab}_{i:04d}_a_1.wav", seed=n)
    for i in range(4):
        _wav(root / "eval_data" / ev_m / "test" / f"section_00_{i:04d}.wav", seed=100 + i)


@pytest.fixture(scope="module")
def dcase2023(tmp_path_factory):
    """A dev and an eval machine in the 2023 layout, zipped as Zenodo 7882613 / 7830345 / 7860847 zip them."""
    root = tmp_path_factory.mktemp("dcase2023-src")
    dev_m, ev_m = "fan", "bandsaw"
    _dcase2023_tree(root, dev_m, ev_m)
    d, e = root / "dev_data", root / "eval_data"
    records = {"7882613": {f"dev_{dev_m}.zip": _zip(d, _files(d / dev_m))},
               "7830345": {f"eval_data_{ev_m}_train.zip": _zip(e, _files(e / ev_m / "train"))},
               "7860847": {f"eval_data_{ev_m}_test.zip": _zip(e, _files(e / ev_m / "test"))}}
    return root, dev_m, ev_m, records


def _get(suite: str, out: Path, **kw) -> tuple[data_get.Plan, dict]:
    sel = {k: kw.pop(k) for k in ("sets", "machines") if k in kw}
    plan = data_get.make_plan(suite, out, **sel)
    counts = data_get.run(plan, progress=False, backoff_s=0, log=lambda _m: None, **kw)
    return plan, counts


def test_catalogue_matches_the_official_download_lists():
    # nttcslab/dcase2023_task2_baseline_ae datasets/download_path_{legacy,2023,2024,2025,2026}.yaml
    assert {a.record for a in SOURCES["dcase2020"].archives} == {"3678171", "3727685", "3841772"}
    names24 = {a.name for a in SOURCES["dcase2024"].archives}
    assert {"eval_data_3DPrinter_train_r2.zip", "eval_data_RoboticArm_train_r2.zip", "dev_bearing.zip"} <= names24
    a26 = SOURCES["dcase2026"].archives
    assert {a.record for a in a26} == {"19336329", "20151556"} and "dev_ToyCar_r2.zip" in {a.name for a in a26}
    assert "dev_ToyCar.zip" not in {a.name for a in a26} and not any(a.name.endswith("_test.zip") for a in a26)
    assert len(SOURCES["mimii"].archives) == 12 and source_for("mimii-supervised").key == "mimii"
    with pytest.raises(DataError, match="data synth"):
        source_for("dcase2023-synth")


def test_full_download_then_the_real_suite_scores_the_tree(hosts, dcase2023, tmp_path):
    _root, dev_m, ev_m, records = dcase2023
    hosts.zenodo.update(records)
    out = tmp_path / "data"
    plan, counts = _get("dcase2023", out, machines=(dev_m, ev_m), sets=("dev", "eval"))
    assert counts["fetched"] == 3 and counts["unpacked"] > 0
    data = manifest.read(out)["files"]
    for rec, files in records.items():
        for name, body in files.items():
            e = data[f"{rec}/{name}"]
            assert e["checksum"] == "md5:" + hashlib.md5(body).hexdigest() and e["size"] == len(body)
            assert e["url"].startswith(hosts.url) and e["date"] and "CC BY-SA 4.0" in e["licence"]
    assert (out / "dev_data" / dev_m / "train").is_dir() and (out / "eval_data" / ev_m / "test").is_dir()
    assert not list((out / ".downloads").iterdir())  # archives removed once unpacked, no partial files left
    spec = get_suite("dcase2023")
    assert readers.detect(spec, out)
    index = readers.scan(spec, out, readers.ScanOptions(machines=(dev_m, ev_m)))
    assert {c.machine for c in index.clips} == {dev_m, ev_m}

    before = len(hosts.requests)  # verified files are never fetched twice
    plan2, counts2 = _get("dcase2023", out, machines=(dev_m, ev_m))
    assert plan2.pending == [] and counts2 == {"fetched": 0, "present": 3, "unpacked": 0}
    assert hosts.requests[before:] == []


def test_the_real_suite_scores_the_downloaded_tree(hosts, dcase2023, tmp_path):
    from impact_bench.runner import RunRequest, run

    _root, dev_m, ev_m, records = dcase2023
    hosts.zenodo.update(records)
    out = tmp_path / "data"
    _get("dcase2023", out, machines=(dev_m, ev_m))
    res = json.loads(Path(run(RunRequest(encoder="logmel-stats", suite="dcase2023", data_root=out, out=tmp_path / "r",
                                         use_cache=False, progress=False), log=lambda _m: None)).read_text())
    section = res["sets"]["dev"]["machines"][dev_m]["sections"]["section_00"]
    aucs = [v for k, v in section.items() if "auc" in k.lower() and isinstance(v, float)]
    assert aucs and all(0.0 <= v <= 1.0 for v in aucs)


def test_interrupted_download_resumes_with_a_range_request(hosts, tmp_path):
    body = os.urandom(3 << 20)
    mimii = tmp_path / "src"  # the zip holds <machine>/id_XX/{normal,abnormal}/ (MIMII README)
    for label in ("normal", "normal", "abnormal"):
        n = len(list((mimii / "-6_dB").rglob("*.wav")))
        _wav(mimii / "-6_dB" / "fan" / "id_00" / label / f"{n:08d}.wav", seed=n)
    archive = _zip(mimii / "-6_dB", _files(mimii / "-6_dB" / "fan"))
    hosts.zenodo["3384388"] = {"-6_dB_fan.zip": archive + b"", "0_dB_fan.zip": body}
    path = "/api/records/3384388/files/-6_dB_fan.zip/content"
    hosts.drop_after[path] = len(archive) // 3
    out = tmp_path / "mimii"
    with pytest.raises(DownloadError, match="run the same command again to resume"):
        _get("mimii", out, sets=("-6dB",), machines=("fan",), retries=0)
    part = out / ".downloads" / "-6_dB_fan.zip.part"
    assert part.stat().st_size == len(archive) // 3
    _get("mimii", out, sets=("-6dB",), machines=("fan",), retries=0)
    sent = hosts.files_sent("-6_dB_fan.zip")
    assert [r[1] for r in sent] == [None, f"bytes={len(archive) // 3}-"]
    assert sum(r[2] for r in sent) == len(archive)  # not one byte downloaded twice
    assert readers.detect(get_suite("mimii"), out) and not part.exists()

    # a drop inside one run: the retry resumes at once
    hosts.drop_after["/api/records/3384388/files/0_dB_fan.zip/content"] = 1 << 20
    plan = data_get.make_plan("mimii", tmp_path / "m2", sets=("0dB",), machines=("fan",))
    from impact_bench.datasets.download import fetch
    f = plan.pending[0]
    got = fetch(f.url, tmp_path / "x.zip", size=f.size, checksum=f.checksum, part_dir=tmp_path / "p", progress=False,
                retries=2, backoff_s=0)
    assert got == "md5:" + hashlib.md5(body).hexdigest()
    assert [r[1] for r in hosts.files_sent("0_dB_fan.zip")] == [None, "bytes=1048576-"]


def test_corrupted_files_are_detected_and_fetched_again(hosts, dcase2023, tmp_path):
    _root, dev_m, _ev, records = dcase2023
    hosts.zenodo["7882613"] = records["7882613"]
    name = f"dev_{dev_m}.zip"
    hosts.corrupt_once.add(f"/api/records/7882613/files/{name}/content")  # damaged in transit
    out = tmp_path / "d"
    _get("dcase2023", out, sets=("dev",), machines=(dev_m,), keep_archives=True)
    assert len(hosts.files_sent(name)) == 2
    kept = out / ".downloads" / name
    assert hashlib.md5(kept.read_bytes()).hexdigest() == hashlib.md5(records["7882613"][name]).hexdigest()

    raw = bytearray(kept.read_bytes())  # damaged on disk afterwards
    raw[100] ^= 0xFF
    kept.write_bytes(bytes(raw))
    logs: list[str] = []
    plan = data_get.make_plan("dcase2023", out, sets=("dev",), machines=(dev_m,))
    assert len(plan.pending) == 1
    data_get.run(plan, progress=False, keep_archives=True, backoff_s=0, log=logs.append)
    assert any("corrupt" in m for m in logs) and len(hosts.files_sent(name)) == 3
    assert kept.read_bytes() == records["7882613"][name]


@pytest.mark.parametrize("member,why", [("../evil.wav", "climbs out"), ("/abs/evil.wav", "absolute"),
                                        ("C:/evil.wav", "absolute"), ("link", "symbolic link")])
def test_archive_members_outside_the_target_are_refused(tmp_path, member, why):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("fan/train/ok.wav", b"x")
        info = zipfile.ZipInfo(member)
        if member == "link":
            info.external_attr = (0o120777 << 16)  # S_IFLNK
        z.writestr(info, b"../../etc/passwd")
    archive = tmp_path / "a.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(UnsafeArchiveError, match=why):
        extract(archive, tmp_path / "target")
    assert not (tmp_path / "target").exists() and not (tmp_path / "evil.wav").exists()


def test_zip_slip_archive_from_the_server_is_refused(hosts, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("fan/train/ok.wav", b"x")
        z.writestr("../../outside.wav", b"x")
    hosts.zenodo["3384388"] = {"6_dB_fan.zip": buf.getvalue()}
    with pytest.raises(UnsafeArchiveError, match="outside.wav"):
        _get("mimii", tmp_path / "o", sets=("6dB",), machines=("fan",))
    assert not (tmp_path / "outside.wav").exists() and not (tmp_path / "o" / "6_dB").exists()


def test_offline_names_the_url_and_the_manual_layout(tmp_path, monkeypatch):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    monkeypatch.setenv("IMPACT_BENCH_ZENODO_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(DownloadError) as err:
        data_get.make_plan("dcase2022", tmp_path, sets=("dev",), machines=("fan",))
    msg = str(err.value)
    assert f"http://127.0.0.1:{port}/api/records/6355122" in msg and "dev_data/<machine>" in msg and "offline" in msg


def test_dinos_from_dataverse_and_listen_from_github(hosts, tmp_path):
    src = tmp_path / "src"
    for task, normal in DINOS_NORMAL.items():  # the anomaly tasks' folders (authors' src/unified_config.py)
        _wav(src / "DINOS_Downstreams_train" / task / normal[0] / "a.wav", 48000, 0.05)
        _wav(src / "DINOS_Downstreams_test" / task / normal[0] / "b.wav", 48000, 0.05)
        _wav(src / "DINOS_Downstreams_test" / task / "2-fault" / "c.wav", 48000, 0.05)
    hosts.dataverse = {"DINOS_Downstreams.zip": _zip(src, _files(src), prefix="DINOS/"),
                       "pretrain/DINOS_Pretrain.zip": b"not fetched by default"}
    plan, counts = _get("dinos-anomaly", tmp_path / "dinos")
    assert counts["fetched"] == 1 and "CC BY 4.0" in plan.licences()[0]
    assert not hosts.files_sent("/api/access/datafile/1")
    spec = get_suite("dinos-anomaly")
    assert readers.detect(spec, tmp_path / "dinos") and len(readers.scan(spec, tmp_path / "dinos").clips) == 6

    lsrc = tmp_path / "lsrc"  # the LISTEN repository: Datasets/ + code, as GitHub's archive wraps it
    _wav(lsrc / "Datasets/Onsite_Train/On/a.wav", 48000, 0.05)
    _wav(lsrc / "Datasets/Onsite_Test/test/On/b.wav", 48000, 0.05)
    (lsrc / "Datasets/Onsite_Train/train_list.csv").write_text(
        "filepath,start_sample,label,class_name\nDatasets/Onsite_Train/On/a.wav,0,1,On\n")
    (lsrc / "README.md").write_text("LISTEN")
    hosts.github[f"/hanprd/LISTEN/archive/{LISTEN_REF}.zip"] = _zip(lsrc, _files(lsrc), prefix=f"LISTEN-{LISTEN_REF}/")
    _get("listen-onsite", tmp_path / "listen")
    entry = next(iter(manifest.read(tmp_path / "listen")["files"].values()))
    assert entry["checksum"].startswith("sha256:")  # GitHub publishes none: recorded for later runs
    assert readers.detect(get_suite("listen-onsite"), tmp_path / "listen")
    rows = read_manifest(tmp_path / "listen")
    assert [r[0].is_file() if r[0].is_absolute() else (tmp_path / "listen" / r[0]).is_file() for r in rows] == [True]


def test_pooch_retrieve_accepts_the_resumable_downloader(hosts, tmp_path):
    import pooch

    body = os.urandom(200_000)
    hosts.github["/f.bin"] = body
    hosts.drop_after["/f.bin"] = 50_000
    dl = ResumableDownloader(part_dir=tmp_path / "parts", retries=0, backoff_s=0)
    with pytest.raises(DownloadError):
        pooch.retrieve(f"{hosts.url}/f.bin", known_hash="md5:" + hashlib.md5(body).hexdigest(), path=tmp_path,
                       fname="f.bin", downloader=dl, progressbar=False)
    path = pooch.retrieve(f"{hosts.url}/f.bin", known_hash="md5:" + hashlib.md5(body).hexdigest(), path=tmp_path,
                          fname="f.bin", downloader=dl, progressbar=False)
    assert Path(path).read_bytes() == body and [r[1] for r in hosts.files_sent("/f.bin")] == [None, "bytes=50000-"]


def test_disk_space_is_checked_before_downloading(hosts, dcase2023, tmp_path, monkeypatch):
    hosts.zenodo.update(dcase2023[3])
    plan = data_get.make_plan("dcase2023", tmp_path / "o", sets=("dev",), machines=(dcase2023[1],))
    monkeypatch.setattr(data_get.shutil, "disk_usage", lambda _p: type("U", (), {"free": 10})())
    with pytest.raises(DataError, match="not enough disk space"):
        data_get.check_disk(plan)


def _cli(args: list[str], cwd: Path, env_url: str | None, stdin: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if env_url:
        env.update({f"IMPACT_BENCH_{h}_URL": env_url for h in ("ZENODO", "DATAVERSE", "GITHUB")})
    return subprocess.run([sys.executable, "-m", "impact_bench.cli", "data", "get", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, input=stdin)


def test_cli_shows_licences_and_needs_yes_when_not_interactive(hosts, dcase2023, tmp_path):
    hosts.zenodo.update(dcase2023[3])
    dev_m = dcase2023[1]
    args = ["dcase2023", "--sets", "dev", "--machines", dev_m, "--out", str(tmp_path / "o"), "--quiet"]
    no = _cli(args, tmp_path, hosts.url)
    assert no.returncode == 2 and "--yes" in no.stderr and "CC BY-SA 4.0" in no.stdout
    assert not hosts.files_sent(f"dev_{dev_m}.zip")
    ok = _cli(args + ["--yes"], tmp_path, hosts.url)
    assert ok.returncode == 0, ok.stderr
    assert f"ready: impact-bench run --suite dcase2023 --data-root {tmp_path / 'o'}" in ok.stdout


def test_run_without_data_points_at_data_get(tmp_path):
    from impact_bench.pipeline import resolve_data_root

    for suite in ("dcase2023", "mimii", "dinos", "listen-onsite"):
        with pytest.raises(DataError, match=f"impact-bench data get {suite} "):
            resolve_data_root(get_suite(suite), tmp_path / "empty")


def test_selection_names_and_aliases():
    from impact_bench.datasets.sources import select

    src = SOURCES["mimii"]
    assert {a.name for a in select(src, src.archives, ("m6dB",), ("fan",))} == {"-6_dB_fan.zip"}
    with pytest.raises(DataError, match="has machine types"):
        select(src, src.archives, (), ("drill",))
    with pytest.raises(DataError, match="has sets dev, eval"):
        select(SOURCES["dcase2023"], SOURCES["dcase2023"].archives, ("test",))
