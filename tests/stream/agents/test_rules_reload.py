"""reload_rules: new thresholds without a redeploy; a bad rules file stops start-up clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from models import Category, Context, Detector, DetectorKind, DetectorParams, Feed, Finding
from models.catalogue import build_engine
from models.params import RateCapParams
from models.rules_file import RulesFileError
from stream.agents.rules import with_rules
from stream.app import load_params
from stream.settings import RulesSection, WorkerSettings


class _Model(Detector):
    feed = Feed.LOANS
    categories: ClassVar[tuple[Category, ...]] = (Category.LOAN_ANOMALY,)
    kind = DetectorKind.ML
    name = "model"

    def detect(self, event: Any, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        return state, []


def test_reloaded_rules_rebuild_the_catalogue_and_keep_its_state_namespaces() -> None:
    before = build_engine(DetectorParams())
    new = DetectorParams(version="2026-12", rate_cap=RateCapParams(multiplier=3.0))

    after = with_rules(before, new)

    assert after.namespaces() == before.namespaces()
    assert {d.params.version for d in after.detectors} == {"2026-12"}
    assert {type(d) for d in after.detectors} == {type(d) for d in before.detectors}


def test_reloaded_rules_keep_the_loaded_ml_models() -> None:
    model = _Model()
    after = with_rules(build_engine(DetectorParams(), extra=[model]), DetectorParams(version="2"))
    assert [d for d in after.detectors if d.kind is DetectorKind.ML] == [model]


def test_a_bad_rules_file_stops_the_worker_naming_key_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: '3'\nrate_cap:\n  lpr: -1\n", encoding="utf-8")
    settings = WorkerSettings(rules=RulesSection(path=rules))
    with pytest.raises(RulesFileError, match=r"line 3: rate_cap\.lpr"):
        load_params(settings)


def test_no_rules_file_means_the_domain_defaults(tmp_path: Path) -> None:
    settings = WorkerSettings(rules=RulesSection(path=tmp_path / "absent.yaml"))
    assert load_params(settings) == DetectorParams()
