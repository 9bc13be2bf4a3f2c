"""Folding Vietnamese text for accent-insensitive search (recipients/folding.py)."""

from __future__ import annotations

import unicodedata

from recipients.folding import fold


def test_accents_case_and_the_letter_d_fold_alike():
    assert fold("Ba Đình") == fold("ba dinh") == fold("BA ĐÌNH") == "ba dinh"
    assert fold("Ủy ban nhân dân phường Hoàn Kiếm") == "uy ban nhan dan phuong hoan kiem"


def test_composed_and_decomposed_text_fold_alike():
    composed = "Đống Đa"
    assert fold(unicodedata.normalize("NFD", composed)) == fold(composed) == "dong da"
