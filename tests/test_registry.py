import pytest

from impact_bench.errors import RegistryError
from impact_bench.registry import Registry


class TestBasics:
    def test_register_and_get(self):
        reg = Registry("thing")
        reg.register("a", 1)
        assert reg.get("a") == 1 and reg.names() == ["a"] and "a" in reg

    def test_lazy_string_target_is_imported_on_first_get(self):
        reg = Registry("thing")
        entry = reg.register("sqrt", "math:sqrt")
        assert not entry.loaded
        assert reg.get("sqrt")(9) == 3
        assert entry.loaded


class TestErrors:
    def test_collision_is_an_error(self):
        reg = Registry("encoder")
        reg.register("x", 1, origin="builtin")
        with pytest.raises(RegistryError, match="already registered.*builtin"):
            reg.register("x", 2, origin="plugin:foo")

    def test_skip_on_clash_keeps_builtin(self):
        reg = Registry("encoder")
        reg.register("x", 1)
        assert reg.register("x", 2, on_clash="skip") is None
        assert reg.get("x") == 1

    def test_unknown_name_suggests_close_names(self):
        reg = Registry("encoder")
        for n in ("opensmile", "logmel-stats"):
            reg.register(n, n)
        with pytest.raises(RegistryError, match="did you mean 'opensmile'"):
            reg.get("opensmil")

    def test_failing_import_names_the_entry(self):
        reg = Registry("encoder")
        reg.register("broken", "impact_bench_no_such_module:X", origin="plugin:demo")
        with pytest.raises(RegistryError, match="'broken' \\(from plugin:demo\\) failed to load"):
            reg.get("broken")
        assert reg.entry("broken").error
