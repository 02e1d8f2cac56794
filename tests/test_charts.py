"""Server-drawn SVG charts: well-formed, labelled for screen readers, every label escaped,
no inline styles or scripts (the Content Security Policy would refuse them)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from inquiry_docs.web import charts

pytestmark = pytest.mark.stack_free("SVG drawn from numbers")

HOSTILE = '<script>alert(1)</script> "quoted" & <b>'
SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 - our own markup; raises if malformed


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def _check_safe(svg) -> ET.Element:
    markup = str(svg)
    assert "<script" not in markup and "style=" not in markup and " on" not in markup
    root = _parse(svg)
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}desc").get("id") == desc_id
    return root


def test_bar_chart_escapes_labels_and_describes_itself():
    bars = [charts.Bar(HOSTILE, 5), charts.Bar("Police", 10), charts.Bar("Council", 0)]
    root = _check_safe(charts.bar_chart("c1", "By <source>", bars))
    assert root.find(f"{SVG}title").text == "By <source>"
    assert "Largest: Police: 10" in root.find(f"{SVG}desc").text
    labels = _texts(root)
    assert any(label.startswith('<script>alert(1)</script> "quo') for label in labels)
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[1] == 2 * widths[0] and widths[2] == 1  # to scale; a zero is a hairline


def test_column_chart_has_a_scale_and_a_label_every_few_bars():
    bars = [charts.Bar(f"Jan {2000 + n}", n) for n in range(30)]
    root = _check_safe(charts.column_chart("c2", "By month", bars))
    labels = _texts(root)
    assert "0" in labels and "30" in labels  # the scale reaches past the top value
    assert sum(label.startswith("Jan ") for label in labels) <= 10
    assert len(list(root.iter(f"{SVG}rect"))) == 29  # the zero month draws no bar


def test_stacked_chart_splits_each_bar_and_keeps_a_legend():
    segments = [charts.Segment("supports", "Supports"), charts.Segment("challenges", HOSTILE)]
    rows = [("13. Mandatory reporting", {"supports": 3, "challenges": 1}), ("1. Other", {})]
    root = _check_safe(charts.stacked_chart("c3", "Stances", rows, segments))
    texts = _texts(root)
    assert "Supports" in texts and HOSTILE in texts
    assert "4" in texts and "0" in texts  # each bar's total at its end
    assert "split by supports" in root.find(f"{SVG}desc").text


def test_ticks_are_round():
    assert charts._ticks(0) == [0, 1]
    assert charts._ticks(3) == [0, 1, 2, 3]
    assert charts._ticks(37) == [0, 10, 20, 30, 40]
    assert charts._ticks(1234)[-1] >= 1234
