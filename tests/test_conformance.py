"""Every built-in encoder against every conformance check, one test id per pair
(``test_builtin_conforms[beats:batch-invariance]``), in the spirit of scikit-learn's
``parametrize_with_checks``.

Each encoder is built once per session, cheaply: weight-free ones as they are; the others from the
small official-layout checkpoints their own test files use (``tests/data`` and the writers in
``test_htsat.py`` / ``test_vggish.py``), or seeded full-size networks where that is cheap. Those
files no longer call ``assert_conforms`` on the same configurations; they keep the golden checks.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import torch

from impact_bench.checkpoints import seeded_state_dict
from impact_bench.encoders.cards import CARDS
from impact_bench.encoders.catalog import build_encoder
from impact_bench.encoders.conformance import CHECKS_BY_NAME, parametrize_with_checks, run_check

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Factory:
    build: Callable[[Path], Any]  # a folder of its own → the encoder
    full_size: bool               # the official architecture: embedding_dim must match the card


def _listen_family(arch: str, seed: int) -> Factory:
    """The release's network with seeded weights in the release layout (as test_listen.py)."""
    def build(tmp: Path):
        from impact_bench.baselines.listen import RELEASE_FILES
        from impact_bench.baselines.listen_nets import ARCHITECTURES
        path = tmp / f"{RELEASE_FILES[arch]}.pth"
        torch.save(seeded_state_dict(ARCHITECTURES[arch]().state_dict(), seed), path)
        return build_encoder(arch, checkpoint=str(path))
    return Factory(build, full_size=True)


def _opensmile(tmp: Path):
    if importlib.util.find_spec("opensmile") is None:
        pytest.skip("opensmile extra not installed")
    return build_encoder("opensmile")


def _audiomae(name: str, file: str):  # tiny 2-block 48-d ViTs in the official layout (as test_audiomae.py)
    return build_encoder(name, checkpoint=str(DATA / file), options={"num_heads": 4})


def _clap(tmp: Path):
    from test_htsat import clap_file
    return build_encoder("clap", checkpoint=str(clap_file(tmp)))


def _opera_ct(tmp: Path):
    from test_htsat import opera_ct_file
    return build_encoder("opera-ct", checkpoint=str(opera_ct_file(tmp)))


def _vggish(tmp: Path):
    from test_vggish import recipe_state

    from impact_bench.baselines.vggish import VGGish
    path = tmp / "vggish-10086976.pth"
    torch.save(recipe_state({k: tuple(v.shape) for k, v in VGGish().state_dict().items()}), path)
    return build_encoder("vggish", checkpoint=str(path))


FACTORIES: dict[str, Factory] = {
    "logmel-stats": Factory(lambda tmp: build_encoder("logmel-stats"), full_size=True),
    "opensmile": Factory(_opensmile, full_size=True),
    "impact": Factory(lambda tmp: build_encoder("impact", options={"random_init_seed": 3}), full_size=True),
    "beats": Factory(lambda tmp: build_encoder("beats", checkpoint=str(DATA / "beats_tiny.pt")), full_size=False),
    "audiomae": Factory(lambda tmp: _audiomae("audiomae", "audiomae_tiny_pretrained.pth"), full_size=False),
    "audiomae-ft": Factory(lambda tmp: _audiomae("audiomae-ft", "audiomae_tiny_finetuned.pth"), full_size=False),
    "clap": Factory(_clap, full_size=False),
    "opera-ct": Factory(_opera_ct, full_size=False),
    "opera-gt": Factory(lambda tmp: build_encoder("opera-gt", checkpoint=str(DATA / "opera_gt_tiny.ckpt"),
                                                  options={"num_heads": 4}), full_size=False),
    "vggish": Factory(_vggish, full_size=True),
    **{arch: _listen_family(arch, seed)  # the seeds of scripts/golden/listen.py
       for arch, seed in (("listen", 0), ("bc-resnet-3", 1), ("mobilevit-xxs", 2), ("mobilenetv4-small", 3))},
}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """The models here are tiny: intra-op threads only add overhead, and on a busy 2-core machine
    two threads contending made these tests several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def builtin_encoder(tmp_path_factory) -> Callable[[str], Any]:
    """name → the encoder, built on first use and kept for the session (a failed build is kept too)."""
    root = tmp_path_factory.mktemp("conformance")
    built: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in FACTORIES:
            pytest.fail(f"built-in encoder {name!r} has no cheap test factory: add one to FACTORIES in {__file__}")
        if name not in built:
            (root / name).mkdir()
            try:
                built[name] = FACTORIES[name].build(root / name)
            except Exception as exc:  # noqa: BLE001 - reported by every test of this encoder
                built[name] = exc
        if isinstance(built[name], Exception):
            raise AssertionError(f"building {name!r} failed: {type(built[name]).__name__}: {built[name]}") \
                from built[name]
        return built[name]

    return get


def test_every_builtin_encoder_has_a_factory():
    assert set(FACTORIES) == set(CARDS)


@parametrize_with_checks(list(CARDS))
def test_builtin_conforms(encoder, check, builtin_encoder):
    result = run_check(check, builtin_encoder(encoder))
    assert result.passed, f"{encoder}: {result.name}: {result.message}"


@pytest.mark.parametrize("name", list(CARDS))
def test_builtin_matches_its_card(name, builtin_encoder):
    enc, card = builtin_encoder(name), CARDS[name]
    assert enc.name == name and enc.sample_rate == card.sample_rate
    if FACTORIES[name].full_size:
        assert enc.embedding_dim == card.embedding_dim


def test_parametrize_with_checks_ids_and_subsets():
    mark = parametrize_with_checks(["a", "b"], checks=["shapes", "finite"])
    assert mark.args[0] == ("encoder", "check")
    assert [p.id for p in mark.args[1]] == ["a:shapes", "a:finite", "b:shapes", "b:finite"]
    assert [p.values for p in parametrize_with_checks(["a"]).args[1]] == [("a", c) for c in CHECKS_BY_NAME]
    with pytest.raises(ValueError, match="unknown conformance check"):
        parametrize_with_checks(["a"], checks=["nope"])
