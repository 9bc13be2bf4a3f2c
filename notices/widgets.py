"""The admin's rich-text editor: a small contenteditable toolbar served from our own static files."""

from __future__ import annotations

from django import forms


class RichTextWidget(forms.Textarea):
    """A textarea that our editor script turns into a toolbar and an editable page (no CDN, no framework)."""

    template_name = "notices/widgets/richtext.html"

    class Media:
        css = {"all": ["notices/editor.css"]}
        js = ["notices/editor.js"]

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__({"class": "richtext-source", "rows": 20, **(attrs or {})})
