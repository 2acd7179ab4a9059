"""docs/policy.md is the policy table the code enforces."""

from __future__ import annotations

from pathlib import Path

from ocx.domain.policy import Action, render_markdown

DOC = Path(__file__).parents[3] / "docs" / "policy.md"


def test_policy_doc_is_current() -> None:
    assert DOC.read_text() == render_markdown(), "run: ocx admin policy > docs/policy.md"


def test_policy_doc_names_every_action() -> None:
    text = render_markdown()
    assert all(f"`{action.value}`" in text for action in Action)
