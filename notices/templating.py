"""The sandboxed template language of personalised dispatches: fields and a table, nothing else.

Jinja2's ImmutableSandboxedEnvironment rather than Django templates: the sandbox is built to run templates
written by people we do not fully trust (attribute access, calls and ranges are checked by design), it can be
given a budget, and `jinja2.meta` lists the variables a template uses, which the merge-data check needs.
Django's template language has none of these and would have to be restricted by hand.
"""

from __future__ import annotations

import contextvars
import datetime
import decimal
import functools
import html
import re

from django.utils.translation import gettext as _
from jinja2 import meta, nodes
from jinja2.exceptions import TemplateError
from jinja2.runtime import LoopContext, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE_CHARS = 500_000
MAX_OUTPUT_CHARS = 500_000
MAX_ITERATIONS = 10_000  # loop steps per rendering, every loop together
MAX_RANGE = 1_000
LOOP_ATTRIBUTES = {"index", "index0", "first", "last", "length", "revindex", "revindex0"}
BUILTIN_NAMES = {"table", "ten_don_vi", "range", "loop"}
budget: contextvars.ContextVar[list[int]] = contextvars.ContextVar("merge_template_budget")


class TemplateRefused(ValueError):
    """A template or its rendering that the sandbox refuses; the message says why."""


def vietnamese_number(value, places: int = 0) -> str:
    """Return 1234567 as "1.234.567" (and 1234.5 with places=1 as "1.234,5")."""
    number = as_number(value)
    text = f"{number:,.{places}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def as_number(value) -> decimal.Decimal:
    """Return a cell as a number: 1234567, "1234567", "1.234.567" (Vietnamese) or "1234.5"."""
    if isinstance(value, bool):
        raise TemplateRefused(_("“%(value)s” is not a number.") % {"value": value})
    if isinstance(value, int | float | decimal.Decimal):
        return decimal.Decimal(str(value))
    text = str(value).strip().replace(" ", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", text):
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d+,\d+", text):
        text = text.replace(",", ".")
    try:
        return decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise TemplateRefused(_("“%(value)s” is not a number.") % {"value": value}) from None


def vietnamese_money(value) -> str:
    """Return an amount in đồng: "1.234.567 đồng"."""
    return f"{vietnamese_number(value)} đồng"


def vietnamese_date(value) -> str:
    """Return a date as "05/03/2026" (from a date, "2026-03-05" or "5/3/2026")."""
    return as_date(value).strftime("%d/%m/%Y")


def as_date(value) -> datetime.date:
    if isinstance(value, datetime.date):
        return value.date() if isinstance(value, datetime.datetime) else value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise TemplateRefused(_("“%(value)s” is not a date.") % {"value": value})


def bounded_range(*args):
    """Return range(...) if it has at most MAX_RANGE steps."""
    steps = range(*args)
    if len(steps) > MAX_RANGE:
        raise TemplateRefused(_("A range may have at most %(count)d steps.") % {"count": MAX_RANGE})
    return steps


def counted(iterable):
    """Yield the loop's items, spending the rendering's budget of loop steps (the wrapper of every loop)."""
    left = budget.get()
    for item in iterable:
        left[0] -= 1
        if left[0] < 0:
            raise TemplateRefused(_("The loops take more than %(count)d steps.") % {"count": MAX_ITERATIONS})
        yield item


NUMBER_FILTERS = {"number": vietnamese_number, "money": vietnamese_money, "date": vietnamese_date}
SAFE_FILTERS = ("default", "upper", "lower", "title", "capitalize", "trim", "length", "round", "int", "e", "escape")
FORBIDDEN_NODES = (nodes.Import, nodes.FromImport, nodes.Include, nodes.Extends, nodes.Macro, nodes.CallBlock)


class MergeEnvironment(ImmutableSandboxedEnvironment):
    """A sandbox where only the data's fields, the table's rows and the loop's counters can be read."""

    intercepted_binops = frozenset(["**", "*"])

    def __init__(self, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=StrictUndefined, loader=None)
        kept = {name: self.filters[name] for name in SAFE_FILTERS}
        self.filters = {**kept, **NUMBER_FILTERS, "__counted": counted}
        self.globals = {"range": bounded_range}

    def _parse(self, source, name, filename):
        """Parse, refuse imports and macros, and make every loop spend the rendering's budget."""
        if len(source) > MAX_TEMPLATE_CHARS:
            raise TemplateRefused(
                _("The template is longer than %(count)d characters.") % {"count": MAX_TEMPLATE_CHARS}
            )
        tree = super()._parse(source, name, filename)
        if any(True for _node in tree.find_all(FORBIDDEN_NODES)):
            raise TemplateRefused(_("Templates may not import, include, extend or define macros."))
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "__counted", [], [], None, None, lineno=loop.lineno)
        return tree

    def getattr(self, obj, attribute):
        return self.getitem(obj, attribute)

    def getitem(self, obj, argument):
        if isinstance(obj, dict) and isinstance(argument, str) and argument in obj:
            return obj[argument]
        if isinstance(obj, list | tuple | str) and isinstance(argument, int):
            return obj[argument]
        if isinstance(obj, LoopContext) and argument in LOOP_ATTRIBUTES:
            return getattr(obj, argument)
        if isinstance(obj, dict) and isinstance(argument, str):
            return self.undefined(obj=obj, name=argument)
        raise TemplateRefused(_("Only the fields of the data can be used (not “%(name)s”).") % {"name": argument})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and (not isinstance(right, int) or abs(right) > 64):
            raise TemplateRefused(_("A power may have an exponent of at most %(count)d.") % {"count": 64})
        if operator == "*" and (isinstance(left, str | list) or isinstance(right, str | list)):
            raise TemplateRefused(_("Text cannot be multiplied."))
        return super().call_binop(context, operator, left, right)


TEXT = MergeEnvironment(autoescape=False)
HTML = MergeEnvironment(autoescape=True)
BLOCK = re.compile(r"({[{%]).*?([}%]})", re.DOTALL)
ROW_LOOP_START = re.compile(r"<tr>(\s*<t[dh][^>]*>\s*(?:<p>)?)\s*({%-?\s*for\b.*?%})", re.DOTALL)
ROW_LOOP_END = re.compile(r"({%-?\s*endfor\s*-?%})(\s*(?:</p>)?\s*</t[dh]>\s*</tr>)", re.DOTALL)


def editor_source(body_html: str) -> str:
    """Return a body written in the editor as template source.

    The editor escapes "<", ">", "&" and quotes inside {{ }} and {% %}: they are unescaped there. A loop written
    at the start of a table row's first cell and closed at the end of its last cell repeats the whole row.
    """
    source = BLOCK.sub(lambda m: html.unescape(re.sub(r"<[^>]+>", "", m.group(0))), body_html)
    source = ROW_LOOP_START.sub(r"\2<tr>\1", source)
    return ROW_LOOP_END.sub(r"\2\1", source)


@functools.lru_cache(maxsize=256)
def compile_template(source: str, html_body: bool):
    """Return the compiled template; raise TemplateRefused with the reason (syntax errors included).

    Compiled once per source and kept (a dispatch's subject, addressees and body are the same for each of its
    copies); a compiled template holds no data and renders many times.
    """
    environment = HTML if html_body else TEXT
    try:
        return environment.from_string(editor_source(source) if html_body else source)
    except TemplateRefused:
        raise
    except TemplateError as exc:
        raise TemplateRefused(_("Template error: %(reason)s") % {"reason": exc}) from exc


def render(template, data: dict) -> str:
    """Return the template filled with `data`, within the loop and output budgets; raise TemplateRefused."""
    token = budget.set([MAX_ITERATIONS])
    try:
        out, size = [], 0
        for piece in template.generate(data):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateRefused(
                    _("The filled text is longer than %(count)d characters.") % {"count": MAX_OUTPUT_CHARS}
                )
            out.append(piece)
        return "".join(out)
    except TemplateRefused:
        raise
    except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as exc:
        raise TemplateRefused(_("Template error: %(reason)s") % {"reason": exc}) from exc
    finally:
        budget.reset(token)


def fields_used(source: str, html_body: bool) -> set[str]:
    """Return the names a template reads from the data (loop variables and built-ins aside)."""
    environment = HTML if html_body else TEXT
    tree = environment.parse(editor_source(source) if html_body else source)
    return set(meta.find_undeclared_variables(tree)) - BUILTIN_NAMES


def table_fields_used(source: str, html_body: bool) -> set[str]:
    """Return the names read from the rows of a loop over `table` (e.g. row.thang in {% for row in table %})."""
    environment = HTML if html_body else TEXT
    tree = environment.parse(editor_source(source) if html_body else source)
    names = set()
    for loop in tree.find_all(nodes.For):
        iterated = (
            loop.iter.node if isinstance(loop.iter, nodes.Filter) and loop.iter.name == "__counted" else loop.iter
        )
        if isinstance(loop.target, nodes.Name) and isinstance(iterated, nodes.Name) and iterated.name == "table":
            for get in loop.find_all(nodes.Getattr):
                if isinstance(get.node, nodes.Name) and get.node.name == loop.target.name:
                    names.add(get.attr)
    return names


OUTLINED = re.compile(r"{{(.*?)}}|{%.*?%}|{#.*?#}", re.DOTALL)


def outline(source: str, labels: dict[str, str]) -> str:
    """Return a text template as one line for lists that show it unfilled: each {{ expression }} becomes the
    [label] of the fields it reads (their name when `labels` has none), tags and comments are left out."""

    def shown(match: re.Match) -> str:
        if match.group(1) is None:
            return " "
        names = expression_names(match.group(1))
        return "[" + ", ".join(labels.get(name, name) for name in names) + "]" if names else "[…]"

    return " ".join(OUTLINED.sub(shown, source).split())


def expression_names(expression: str) -> list[str]:
    """Return the names an expression reads, in order, once each (none when it does not parse)."""
    try:
        tree = TEXT.parse("{{" + expression + "}}")
    except TemplateError:
        return []
    return list(dict.fromkeys(node.name for node in tree.find_all(nodes.Name) if node.ctx == "load"))
