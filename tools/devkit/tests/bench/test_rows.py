"""The table's arithmetic: ratios, verdicts, formats and the layout."""

from __future__ import annotations

from mindlinks_dev.bench.rows import FAIL, NOT_MEASURED, PASS, Row, Target, amount, table, tally


def row(value: float | None, floor: float | None, target: Target) -> Row:
    return Row("what", value, "s", floor, "the floor", target)


def test_a_value_target_judges_the_value_and_a_ratio_target_the_ratio() -> None:
    assert row(14.0, 2.0, Target(15.0, "≤ 15 s")).verdict == PASS
    assert row(16.0, 20.0, Target(15.0, "≤ 15 s")).verdict == FAIL
    assert row(1.1, 1.0, Target(1.2, "≤ 1.2 x", on="ratio")).verdict == PASS
    assert row(1.3, 1.0, Target(1.2, "≤ 1.2 x", on="ratio")).verdict == FAIL
    assert row(1.2, 1.0, Target(1.2, "≤ 1.2 x", on="ratio")).verdict == PASS  # at the limit


def test_what_was_not_measured_is_said_never_passed() -> None:
    assert row(None, 1.0, Target(1.0, "≤ 1")).verdict == NOT_MEASURED
    assert row(1.0, None, Target(1.2, "≤ 1.2 x", on="ratio")).verdict == NOT_MEASURED
    assert row(1.0, 0.0, Target(1.2, "≤ 1.2 x", on="ratio")).ratio is None
    assert row(3.0, None, Target(5.0, "≤ 5")).verdict == PASS  # a value target needs no floor


def test_the_ratio_is_the_value_over_its_floor() -> None:
    assert row(3.0, 1.5, Target(1, "")).ratio == 2.0
    assert row(None, 1.5, Target(1, "")).ratio is None


def test_amounts_keep_the_precision_their_unit_deserves() -> None:
    assert amount(12.34, "s") == "12.3 s"
    assert amount(1347.0, "s") == "22 min 27 s"
    assert amount(90.0, "s") == "1 min 30 s"
    assert amount(0.0734, "ms") == "0.073 ms"
    assert amount(5.379, "ms") == "5.38 ms"
    assert amount(36.18, "ms") == "36.2 ms"
    assert amount(137.6, "MiB") == "138 MiB"
    assert amount(0.6167, "/s") == "0.62/s"
    assert amount(None, "s") == "—"


def test_the_table_has_a_line_per_row_and_escapes_pipes() -> None:
    rows = [
        Row("a | b", 16.0, "s", 8.0, "floor", Target(15.0, "≤ 15 s"), "bound"),
        Row("ci", 500.0, "s", None, "", Target(420.0, "≤ 7 min"), "recorded"),
    ]
    lines = table(rows)
    assert len(lines) == 2 + len(rows)
    assert lines[2].startswith("| a \\| b | 16.0 s | 8.0 s (floor) | 2.00x | ≤ 15 s | **FAIL** |")
    assert "| — | — | ≤ 7 min | **FAIL** | recorded |" in lines[3]
    assert tally(rows) == {PASS: 0, FAIL: 2, NOT_MEASURED: 0}


def test_a_miss_says_what_was_tried_and_a_pass_does_not() -> None:
    target = Target(1.0, "≤ 1 s", tried="lazy imports")
    missed = Row("what", 2.0, "s", 1.0, "the floor", target, bound="the stack")
    met = Row("what", 0.5, "s", 1.0, "the floor", target, bound="the stack")
    assert missed.explained == "the stack. Tried: lazy imports"
    assert met.explained == "the stack"
    assert "Tried: lazy imports" in table([missed])[2]
    assert "Tried" not in table([met])[2]
