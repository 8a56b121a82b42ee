"""Tests of the benchmark's pure helpers: .venv/bin/python -m pytest bench"""

import math

import pytest

import benchlib as bl


@pytest.mark.parametrize("samples,p,want", [
    ([5], 50, 5),
    ([3, 1, 2], 50, 2),
    ([1, 2, 3, 4], 50, 2.5),
    (list(range(101)), 99, 99),
    ([1, 2], 0, 1),
    ([1, 2], 100, 2),
    ([10, 0], 25, 2.5),
])
def test_percentile(samples, p, want):
    assert bl.percentile(samples, p) == pytest.approx(want)


def test_percentile_of_nothing_raises():
    with pytest.raises(ValueError):
        bl.percentile([], 50)


def test_expected_outputs():
    assert bl.expected_lines(3) == "0\n1\n2\n"
    blob = bl.expected_blob(3)
    assert blob == "000000000\n000000001\n000000002\n"
    assert len(bl.expected_blob(1000)) == 10_000


@pytest.mark.parametrize("got,match", [
    ("0\n1\n", "got 4 chars, want 6; first difference at 4"),
    ("0\n2\n1\n", "first difference at 2: got '2\\n1\\n'"),
    ("0\n1\n2\n3\n", "got 8 chars, want 6; first difference at 6"),
])
def test_check_text_names_first_difference(got, match):
    with pytest.raises(bl.OutputError, match=match.replace("\\", "\\\\")):
        bl.check_text(got, "0\n1\n2\n", "lines")


def test_check_text_accepts_equal():
    bl.check_text("abc", "abc", "same")


@pytest.mark.parametrize("got,match", [
    (["0", "1"], "got 2 messages, want 3; first difference at #2: got None, want '2'"),
    (["0", "2", "1"], "first difference at #1: got '2', want '1'"),
    (["0", "1", "2", "3"], "got 4 messages, want 3; first difference at #3: got '3', want None"),
])
def test_check_sequence_names_first_difference(got, match):
    with pytest.raises(bl.OutputError) as e:
        bl.check_sequence(got, 3, "displays")
    assert match in str(e.value)


def test_check_sequence_accepts_complete():
    bl.check_sequence(["0", "1", "2"], 3, "displays")


@pytest.mark.parametrize("target,plain,cloud,want", [
    (bl.Target("ratio", 1.05), 10, 10.5, "PASS"),
    (bl.Target("ratio", 1.05), 10, 10.6, "MISS"),
    (bl.Target("ratio", 1.1), 0, 1, "MISS"),
    (bl.Target("diff", 100), 400, 500, "PASS"),
    (bl.Target("diff", 100), 400, 501, "MISS"),
    (bl.Target("abs", 2, strict=True), None, 2, "MISS"),
    (bl.Target("abs", 2, strict=True), None, 1.9, "PASS"),
])
def test_target_judge(target, plain, cloud, want):
    assert target.judge(plain, cloud)[1] == want


def test_table_rows():
    rows = [bl.Row("round trip p50", "ms", 5.0, 6.0, bl.Target("ratio", 1.05), "500 cells"),
            bl.Row("proxy RSS", "MB", None, 9.4, bl.Target("abs", 30)),
            bl.Row("complete", "ms", 35, 34)]
    lines = bl.table(rows).splitlines()
    assert len(lines) == 5
    assert lines[2] == "| round trip p50 (ms); 500 cells | 5.00 | 6.00 | 1.20x | ratio <= 1.05x | MISS |"
    assert lines[3] == "| proxy RSS (MB) | - | 9.40 | - | <= 30 | PASS |"
    assert lines[4] == "| complete (ms) | 35.0 | 34.0 | 0.97x | - | - |"


def test_fmt_precision():
    assert [bl.fmt(x) for x in (None, 1234.5, 12.34, 1.234)] == ["-", "1234", "12.3", "1.23"]
    assert not math.isnan(bl.percentile([1.0], 99))


def test_set_ratios():
    per_set = [{"plain": [1, 2, 3], "cloud": [2, 2, 2.2]}, {"plain": [4], "cloud": [5]}]
    assert bl.set_ratios(per_set, "plain", "cloud") == "1.00x, 1.25x"
