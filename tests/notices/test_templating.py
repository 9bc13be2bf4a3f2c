"""The template language of personalised dispatches (notices/templating.py): fields and a table, nothing else."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from notices import templating


def filled(source: str, data: dict | None = None, html_body: bool = False) -> str:
    return templating.render(templating.compile_template(source, html_body), data or {})


def refusal(source: str, data: dict | None = None) -> str:
    with pytest.raises(templating.TemplateRefused) as refused:
        filled(source, data)
    return str(refused.value)


def test_numbers_and_money_print_the_vietnamese_way():
    assert filled("{{ n|money }}", {"n": "1234567"}) == "1.234.567 đồng"
    assert filled("{{ n|number }}", {"n": 1234567}) == "1.234.567"
    assert filled("{{ n|number }}", {"n": "1.234.567"}) == "1.234.567"
    assert filled("{{ n|number(1) }}", {"n": "1234.5"}) == "1.234,5"


def test_dates_print_day_month_year_with_leading_zeros():
    assert filled("{{ d|date }}", {"d": "2026-03-05"}) == "05/03/2026"
    assert filled("{{ d|date }}", {"d": datetime.date(2026, 1, 9)}) == "09/01/2026"
    assert filled("{{ d|date }}", {"d": "5/3/2026"}) == "05/03/2026"


def test_a_value_that_is_not_a_number_is_refused_with_it_named():
    assert "“abc” is not a number" in refusal("{{ n|money }}", {"n": "abc"})


def test_attribute_access_is_refused():
    assert "__class__" in refusal("{{ ''.__class__ }}")
    assert "__class__" in refusal("{{ ''.__class__.__mro__ }}")
    assert "items" in refusal("{{ d.items() }}", {"d": {"a": 1}})


def test_imports_includes_and_macros_are_refused():
    assert "may not import" in refusal('{% import "os" as os %}')
    assert "may not import" in refusal('{% include "x.html" %}')
    assert "may not import" in refusal("{% macro m() %}{% endmacro %}")


def test_loops_without_bound_are_refused():
    assert "at most 1000 steps" in refusal("{% for i in range(10**9) %}x{% endfor %}")
    assert "more than 10000 steps" in refusal(
        "{% for a in range(999) %}{% for b in range(999) %}{% endfor %}{% endfor %}"
    )
    assert "exponent" in refusal("{{ 10**100000 }}")
    assert "multiplied" in refusal("{{ 'a' * 100000000 }}")


def test_an_unknown_field_is_refused():
    assert "so_tien_no" in refusal("{{ so_tien_no }}")


def test_the_body_escapes_the_fields_and_repeats_a_table_row_per_row():
    body = "<p>{{ ten }}</p><table><tr><td>{% for r in table %}{{ r.thang }}</td><td>{{ r.tien|number }}{% endfor %}</td></tr></table>"
    html = filled(
        body,
        {"ten": "<b>A&B</b>", "table": [{"thang": "01/2026", "tien": 1000}, {"thang": "02/2026", "tien": 2000}]},
        True,
    )
    assert "&lt;b&gt;A&amp;B&lt;/b&gt;" in html
    assert "<tr><td>01/2026</td><td>1.000</td></tr><tr><td>02/2026</td><td>2.000</td></tr>" in html


def test_the_editor_escaped_comparison_still_works():
    assert filled("<p>{% if n &gt; 1 %}nhiều{% endif %}</p>", {"n": 2}, True) == "<p>nhiều</p>"


def test_fields_used_leave_out_loop_variables():
    source = "{{ a }}{% for r in table %}{{ r.x }}{{ b }}{% endfor %}"
    assert templating.fields_used(source, False) == {"a", "b"}
    assert templating.table_fields_used(source, False) == {"x"}


def test_a_template_is_compiled_once_for_all_the_copies_that_use_it():
    body = "<p>Số nợ: {{ so_tien_no|money }}</p>"
    assert templating.compile_template(body, html_body=True) is templating.compile_template(body, html_body=True)
    assert templating.compile_template(body, html_body=True) is not templating.compile_template(body, html_body=False)


def test_the_sandbox_says_why_it_refuses_in_vietnamese():
    with translation.override("vi"):
        assert refusal("{{ n|money }}", {"n": "abc"}) == "“abc” không phải là một số."
        assert refusal("{{ d|date }}", {"d": "hôm qua"}) == "“hôm qua” không phải là một ngày."
        assert refusal("{{ ''.__class__ }}") == "Chỉ được dùng các trường của dữ liệu (không dùng được “__class__”)."
        assert refusal("{% for i in range(5000) %}x{% endfor %}") == "Một dãy (range) có tối đa 1000 bước."
        assert refusal('{% include "x.html" %}') == "Mẫu không được import, include, extend hay định nghĩa macro."
        assert refusal("{{ 'a' * 3 }}") == "Không được nhân văn bản."
        assert refusal("{{ 2 ** 100 }}") == "Số mũ của phép lũy thừa tối đa là 64."
        assert refusal("{{ a }}").startswith("Lỗi mẫu: ")
        assert refusal("{% for a in range(999) %}{% for b in range(999) %}{% endfor %}{% endfor %}") == (
            "Các vòng lặp chạy quá 10000 bước."
        )
