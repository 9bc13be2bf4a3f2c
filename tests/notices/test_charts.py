"""Server-made SVG charts: well-formed, escaped, labelled."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from notices import charts

NS = "{http://www.w3.org/2000/svg}"


def test_a_line_chart_is_valid_svg_with_its_labels_and_one_line_per_series():
    svg = charts.line_chart("Tỷ lệ đã nhận", ["01/03", "08/03"], [charts.Series("đã giao", [50.0, 75.0]),
                                                                   charts.Series("đã xác nhận", [10.0, 20.0])],
                            percent=True)  # fmt: skip

    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "Tỷ lệ đã nhận" in texts and "01/03" in texts and "08/03" in texts and "100%" in texts
    assert "đã giao" in texts and "đã xác nhận" in texts
    assert len(list(root.iter(f"{NS}polyline"))) == 2


def test_a_bar_chart_escapes_its_labels():
    svg = charts.bar_chart("<b>", ["Công an & <script>"], [12.5], percent=True)

    root = ET.fromstring(svg)  # would not parse if anything were left unescaped
    assert "<script>" not in svg
    assert "Công an & <script>" in [t.text for t in root.iter(f"{NS}text")]
    assert len(list(root.iter(f"{NS}rect"))) == 1


def test_an_empty_chart_still_draws_its_frame():
    root = ET.fromstring(charts.line_chart("Trống", [], [charts.Series("a", [])]))

    assert root.find(f"{NS}title").text == "Trống"


def test_the_axis_top_is_a_round_number_above_the_largest_value():
    assert charts.scale_max([0, 37], percent=False) == 40
    assert charts.scale_max([1234], percent=False) == 2000
    assert charts.scale_max([], percent=False) == 1
    assert charts.scale_max([3], percent=True) == 100
