"""The build settings come from the environment, so the CLI, the bot and the gaps page agree."""

from __future__ import annotations

import pytest

from knowledge_base.builder import default_build_config


def test_defaults_adapt_the_whole_model(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HELPLINE_KB_ADAPT", "HELPLINE_KB_ADAPT_MAX_STEPS", "HELPLINE_KB_ADAPT_LAYERS"):
        monkeypatch.delenv(name, raising=False)
    adapt = default_build_config().adapt
    assert adapt.enabled and adapt.train_layers == 0 and adapt.max_steps == 150
    assert adapt.objective == "prototypes"


def test_environment_chooses_steps_layers_and_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_KB_ADAPT_MAX_STEPS", "10")
    monkeypatch.setenv("HELPLINE_KB_ADAPT_LAYERS", "1")
    adapt = default_build_config().adapt
    assert (adapt.max_steps, adapt.min_steps, adapt.train_layers) == (10, 10, 1)
    monkeypatch.setenv("HELPLINE_KB_ADAPT", "off")
    assert not default_build_config().adapt.enabled


def test_a_malformed_value_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_KB_ADAPT_LAYERS", "three")
    monkeypatch.setenv("HELPLINE_KB_ADAPT_MAX_STEPS", "many")
    adapt = default_build_config().adapt
    assert adapt.train_layers == 0 and adapt.max_steps == 150
