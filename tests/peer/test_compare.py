"""The peer runner's comparison: what counts as a difference, the rerun's
verdict, the known-differences file and the exit decision."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402


def outcomes(**kw: str) -> dict[str, dict]:
    return {k.replace("__", "::"): {"outcome": v, "message": f"{v} msg"} for k, v in kw.items()}


def test_difference_is_passed_on_plain_and_not_through_cloudline() -> None:
    plain = outcomes(a="passed", b="passed", c="failed", d="passed", e="xfailed", f="passed")
    cl = outcomes(a="passed", b="failed", c="failed", d="skipped", e="failed")
    # b failed, d lost its coverage, e's expected failure turned real, f is missing
    assert compare.differences(plain, cl) == ["b", "d", "e", "f"]


def test_rerun_keeps_only_repeating_differences(capsys: pytest.CaptureFixture[str]) -> None:
    plain = outcomes(a="passed", b="failed", c="passed")
    cl = outcomes(a="failed", b="failed", c="passed")
    assert compare.confirm(["a", "b", "c"], plain, cl) == ["a"]
    out = capsys.readouterr().out
    assert "plain failed too): b" in out and "cloudline passed): c" in out


def test_read_known(tmp_path: Path) -> None:
    f = tmp_path / "known.txt"
    f.write_text("# comment\n\nipykernel tests/t.py::test_x  the reason, in words\n")
    assert compare.read_known(f) == {("ipykernel", "tests/t.py::test_x"): "the reason, in words"}
    f.write_text("ipykernel tests/t.py::test_x\n")
    with pytest.raises(SystemExit, match="known.txt:1"):
        compare.read_known(f)


def test_report_fails_only_on_unexplained(capsys: pytest.CaptureFixture[str]) -> None:
    plain = outcomes(t__a="passed", t__b="passed", t__c="error")
    cl = outcomes(t__a="failed", t__b="failed", t__c="error")
    r = compare.Result("proj", plain, cl, ["t::a", "t::b"])
    assert compare.report([r], {("proj", "t::a"): "why"}) is True
    out = capsys.readouterr().out
    assert "known difference: proj t::a: failed" in out and "why: why" in out and "DIFFERENCE: proj t::b: failed" in out
    assert "fails on plain too: proj t::c" in out
    assert compare.report([r], {("proj", "t::a"): "why", ("proj", "t::b"): "why"}) is False
