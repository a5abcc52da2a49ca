"""Every fact of the reference file is recorded in data/ (as an event id or a 'fact' comment)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.conftest import DATA, REPO

REFERENCE = REPO.parent / "shared" / "reference" / "tariff-facts.yaml"


# CI clones the repository with shared/ beside it: there, a missing reference is a failure.
@pytest.mark.skipif(not REFERENCE.exists() and not os.environ.get("CI"),
                    reason="the reference file is not beside the repo")
def test_every_fact_of_the_reference_file_appears_in_the_data() -> None:
    facts = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["facts"]
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(Path(DATA).glob("*.yaml")))
    missing = [fact["id"] for fact in facts if fact["id"] not in text]
    assert len(facts) >= 80
    assert missing == []
