"""Where each real suite's data is published, file by file, and where each file unpacks.

DCASE Task 2 records and archive names are those of the official baselines' download lists:
nttcslab/dcase2023_task2_baseline_ae ``datasets/download_path_legacy.yaml`` (2020–2022),
``download_path_2023.yaml``, ``download_path_2024.yaml``, ``download_path_2025.yaml`` and
``download_path_2026.yaml`` (commit 9b64dc42, 2026-05-18), which agree with the READMEs of
y-kawagu/dcase2020_task2_baseline, y-kawagu/dcase2021_task2_baseline_ae and
Kota-Dohi/dcase2022_task2_baseline_ae. The baselines unzip dev archives in ``dev_data/raw`` and the
additional-training and evaluation-test archives in ``eval_data/raw`` (``tools/data_download_20XX.sh``);
every zip holds ``<machine>/…``, so they land as ``<out>/{dev,eval}_data/<machine>/``, a layout
:mod:`impact_bench.anomaly.dataset` reads.

MIMII: Zenodo 3384388, twelve ``{-6,0,6}_dB_<machine>.zip`` each holding ``<machine>/id_XX/…``; they
unpack into ``<out>/<snr>_dB/`` (the SNR folder named as the zip is).
DINOS: Harvard Dataverse doi:10.7910/DVN/FWAZBQ (the IMPACT paper's data statement); its file list is
read from the Dataverse API at download time. LISTEN: the hanprd/LISTEN repository's ``Datasets/``
folder, fetched as the GitHub archive of a pinned commit.

Checksums and licences are never copied here: they are read from each record's metadata when
downloading (:mod:`impact_bench.datasets.remote`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from impact_bench.errors import DataError

ZENODO, DATAVERSE, GITHUB = "zenodo", "dataverse", "github"
BASE_URLS = {ZENODO: "https://zenodo.org", DATAVERSE: "https://dataverse.harvard.edu", GITHUB: "https://github.com"}
BASE_ENV = {ZENODO: "IMPACT_BENCH_ZENODO_URL", DATAVERSE: "IMPACT_BENCH_DATAVERSE_URL", GITHUB: "IMPACT_BENCH_GITHUB_URL"}


def base_url(host: str) -> str:
    """The host's base URL; ``$IMPACT_BENCH_{ZENODO,DATAVERSE,GITHUB}_URL`` points it at a mirror."""
    return (os.environ.get(BASE_ENV[host]) or BASE_URLS[host]).rstrip("/")


@dataclass(frozen=True)
class Archive:
    """One file of a published record: which ``--sets``/``--machines`` select it and where it unpacks."""
    host: str
    record: str             # Zenodo record id, Dataverse DOI, or GitHub ``owner/name``
    name: str               # the file's name in the record (Zenodo key, Dataverse path, ``<ref>.zip``)
    set: str
    machine: str | None
    dest: str               # folder under --out it unpacks into ("" = --out itself)
    strip: int = 0          # leading path components dropped when unpacking (GitHub archives: 1)


@dataclass(frozen=True)
class SuiteSource:
    key: str
    host: str
    records: tuple[str, ...]
    archives: tuple[Archive, ...]   # empty for Dataverse: listed from the API at download time
    sets: tuple[str, ...]
    default_sets: tuple[str, ...]
    citation: str
    manual_layout: str
    licence: str | None = None      # only where no record metadata states one (GitHub)

    @property
    def machines(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.machine for a in self.archives if a.machine))


def _dcase(year: int, dev: tuple[str, str, list[str]], train: tuple[str, str], test: tuple[str, str] | None,
           eval_machines: list[str], renamed: dict[str, str] | None = None) -> tuple[Archive, ...]:
    """Archives of one DCASE year: ``dev`` = (record, name pattern, machines); ``train``/``test`` = (record,
    pattern) for the additional-training and evaluation-test data; ``renamed`` maps a machine to the
    revised file name the baseline lists instead (``_r2``)."""
    renamed = renamed or {}
    out = [Archive(ZENODO, dev[0], renamed.get(f"dev:{m}", dev[1].format(m=m)), "dev", m, "dev_data")
           for m in dev[2]]
    for kind, (rec, pattern) in (("train", train), ("test", test)) if test else (("train", train),):
        out += [Archive(ZENODO, rec, renamed.get(f"{kind}:{m}", pattern.format(m=m)), "eval", m, "eval_data")
                for m in eval_machines]
    return tuple(out)


_DEV7 = ["bearing", "fan", "gearbox", "slider", "ToyCar", "ToyTrain", "valve"]
_DCASE_LAYOUT = ("<out>/dev_data/<machine>/{train,test}/*.wav from dev_*.zip; <out>/eval_data/<machine>/"
                 "{train,test}/*.wav from the additional-training and evaluation-test zips "
                 "(2021: source_test/ and target_test/); a raw/ level under dev_data/ and eval_data/ is accepted")
_DCASE = {
    2020: (_dcase(2020, ("3678171", "dev_data_{m}.zip", m20 := ["ToyCar", "ToyConveyor", "fan", "pump", "slider", "valve"]),
                  ("3727685", "eval_data_train_{m}.zip"), ("3841772", "eval_data_test_{m}.zip"), m20),
           "Koizumi et al., 'Description and discussion on DCASE2020 challenge task2', DCASE 2020 Workshop"),
    2021: (_dcase(2021, ("4562016", "dev_data_{m}.zip", m21 := ["fan", "gearbox", "pump", "slider", "ToyCar", "ToyTrain",
                                                                 "valve"]),
                  ("4660992", "eval_data_{m}_train.zip"), ("4884786", "eval_data_{m}_test.zip"), m21),
           "Kawaguchi et al., 'Description and discussion on DCASE 2021 challenge task 2', DCASE 2021 Workshop"),
    2022: (_dcase(2022, ("6355122", "dev_{m}.zip", _DEV7), ("6462969", "eval_data_{m}_train.zip"),
                  ("6586456", "eval_data_{m}_test.zip"), _DEV7),
           "Dohi et al., 'Description and discussion on DCASE 2022 challenge task 2', DCASE 2022 Workshop"),
    2023: (_dcase(2023, ("7882613", "dev_{m}.zip", _DEV7), ("7830345", "eval_data_{m}_train.zip"),
                  ("7860847", "eval_data_{m}_test.zip"),
                  ["bandsaw", "grinder", "shaker", "ToyDrone", "ToyNscale", "ToyTank", "Vacuum"]),
           "Dohi et al., 'Description and discussion on DCASE 2023 challenge task 2: first-shot unsupervised "
           "anomalous sound detection for machine condition monitoring', DCASE 2023 Workshop"),
    2024: (_dcase(2024, ("10902294", "dev_{m}.zip", _DEV7), ("11259435", "eval_data_{m}_train.zip"),
                  ("11363076", "eval_data_{m}_test.zip"),
                  ["3DPrinter", "AirCompressor", "Scanner", "ToyCircuit", "HoveringDrone", "HairDryer", "ToothBrush",
                   "RoboticArm", "BrushlessMotor"],
                  {"train:3DPrinter": "eval_data_3DPrinter_train_r2.zip",
                   "train:RoboticArm": "eval_data_RoboticArm_train_r2.zip"}),
           "Nishida et al., 'Description and discussion on DCASE 2024 challenge task 2: first-shot unsupervised "
           "anomalous sound detection for machine condition monitoring', DCASE 2024 Workshop"),
    2025: (_dcase(2025, ("15097779", "dev_{m}.zip", ["ToyCar", "ToyTrain", "bearing", "fan", "gearbox", "slider", "valve"]),
                  ("15392814", "eval_data_{m}_train.zip"), ("15519362", "eval_data_{m}_test.zip"),
                  ["ToyRCCar", "ToyPet", "HomeCamera", "AutoTrash", "Polisher", "ScrewFeeder", "BandSealer",
                   "CoffeeGrinder"]),
           "DCASE 2025 Task 2 (first-shot unsupervised ASD); data: Zenodo 15097779, 15392814, 15519362"),
    # 2026: dev_ToyCar_r2.zip replaces dev_ToyCar.zip; only the additional training data is out (no eval test)
    2026: (_dcase(2026, ("19336329", "dev_{m}.zip", ["ToyCar", "ToyCarEmu", "bearingEmu", "fan", "gearboxEmu",
                                                     "sliderEmu", "valveEmu"]),
                  ("20151556", "eval_data_{m}_train.zip"), None,
                  ["ToyDrone", "ToothBrush", "SewingMachine", "BlowerDustCollector", "Sander"],
                  {"dev:ToyCar": "dev_ToyCar_r2.zip"}),
           "DCASE 2026 Task 2; data: Zenodo 19336329 (dev), 20151556 (additional training)"),
}

_MIMII = tuple(Archive(ZENODO, "3384388", f"{snr}_dB_{m}.zip", f"{snr}dB", m, f"{snr}_dB")
               for snr in ("-6", "0", "6") for m in ("fan", "pump", "slider", "valve"))
LISTEN_REF = "3f0718b2a6045db9e91e7b87e555779ba3ec18b8"  # hanprd/LISTEN main, 2026-06-25 (the release layout read)
DINOS_DOI = "doi:10.7910/DVN/FWAZBQ"


def _sources() -> dict[str, SuiteSource]:
    out = {}
    for year, (archives, citation) in _DCASE.items():
        records = tuple(dict.fromkeys(a.record for a in archives))
        out[f"dcase{year}"] = SuiteSource(f"dcase{year}", ZENODO, records, archives, ("dev", "eval"), ("dev", "eval"),
                                          citation, _DCASE_LAYOUT)
    out["mimii"] = SuiteSource(
        "mimii", ZENODO, ("3384388",), _MIMII, ("-6dB", "0dB", "6dB"), ("-6dB", "0dB", "6dB"),
        "Purohit et al., 'MIMII Dataset: Sound dataset for malfunctioning industrial machine investigation and "
        "inspection', DCASE 2019 Workshop",
        "<out>/{-6_dB,0_dB,6_dB}/<machine>/id_XX/{normal,abnormal}/*.wav (each {-6,0,6}_dB_<machine>.zip "
        "unzipped into the folder named like it)")
    out["dinos"] = SuiteSource(
        "dinos", DATAVERSE, (DINOS_DOI,), (), ("downstream", "pretrain"), ("downstream",),
        "Han et al., DINOS (Diverse INdustrial Operation Sounds), Harvard Dataverse, doi:10.7910/DVN/FWAZBQ",
        "<out>/DINOS_Downstreams_{train,test}/<Machine>/<class folder>/*.wav (also accepted one level down, "
        "in <out>/DINOS/ or <out>/Datasets/); pretraining audio in DINOS_Pretrain/")
    out["listen"] = SuiteSource(
        "listen", GITHUB, ("hanprd/LISTEN",),
        (Archive(GITHUB, "hanprd/LISTEN", f"{LISTEN_REF}.zip", "release", None, "", strip=1),),
        ("release",), ("release",),
        "hanprd/LISTEN, github.com/hanprd/LISTEN (commit " + LISTEN_REF[:8] + ")",
        "<out>/Datasets/Onsite_Train/train_list.csv (+ the clips it lists) and <out>/Datasets/Onsite_Test/test/"
        "<class>/*.wav, i.e. a clone of github.com/hanprd/LISTEN",
        licence="no licence stated in hanprd/LISTEN (no LICENSE file at the pinned commit): ask the authors "
                "before redistributing")
    return out


SOURCES = _sources()
ALIASES = {"mimii-supervised": "mimii", "dinos-anomaly": "dinos", "listen-onsite": "listen"}
SET_ALIASES = {"m6dB": "-6dB", "min6dB": "-6dB", "-6_dB": "-6dB", "0_dB": "0dB", "6_dB": "6dB"}  # `--sets -6dB` reads as a flag


def source_for(suite: str) -> SuiteSource:
    """The published source of a real suite (``mimii-supervised`` → MIMII, ``dinos-anomaly`` → DINOS …)."""
    key = ALIASES.get(suite, suite)
    if key in SOURCES:
        return SOURCES[key]
    if suite.endswith("-synth"):
        raise DataError(f"suite {suite!r} is synthetic: write it with `impact-bench data synth --suite {suite} --out DIR`")
    names = sorted(SOURCES) + sorted(ALIASES)
    raise DataError(f"no published data known for suite {suite!r}; `data get` knows: {', '.join(names)}")


def select(source: SuiteSource, archives: tuple[Archive, ...], sets: tuple[str, ...] = (),
           machines: tuple[str, ...] = ()) -> list[Archive]:
    """The archives ``--sets`` and ``--machines`` select; an unknown name is an error listing the known ones."""
    sets = tuple(SET_ALIASES.get(s, s) for s in sets) or source.default_sets
    unknown = [s for s in sets if s not in source.sets]
    if unknown:
        raise DataError(f"--sets {','.join(unknown)}: {source.key} has sets {', '.join(source.sets)}")
    if machines:
        known = tuple(dict.fromkeys(a.machine for a in archives if a.machine))
        if not known:
            raise DataError(f"--machines does not apply to {source.key} (its archives are not per machine)")
        bad = [m for m in machines if m not in known]
        if bad:
            raise DataError(f"--machines {','.join(bad)}: {source.key} has machine types {', '.join(known)}")
    return [a for a in archives if a.set in sets and (not machines or a.machine in machines)]
