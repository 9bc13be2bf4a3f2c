from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError

from recipients.addresses import check_address, validate_address


@pytest.mark.parametrize(
    ("address", "letter"),
    [
        ("\u0430dmin@bhxh.example.vn", "U+0430 CYRILLIC SMALL LETTER A"),  # Cyrillic а in the local part
        ("admin@b\u04bbxh.example.vn", "U+04BB CYRILLIC SMALL LETTER SHHA"),  # Cyrillic һ in a domain label
        ("vanthu@bhxh.exam\u03bfle.vn", "U+03BF GREEK SMALL LETTER OMICRON"),
        ("ke\u0442oan@c\u00f4ng-ty.vn", "U+0442 CYRILLIC SMALL LETTER TE"),  # beside a Vietnamese domain
    ],
)
def test_an_address_part_mixing_scripts_is_refused_naming_the_stranger(address, letter):
    with pytest.raises(EmailNotValidError, match=f"mixes scripts: .*{re.escape(letter)}"):
        check_address(address)


@pytest.mark.parametrize(
    "address",
    ["vanthu@bhxh.example.vn", "nhansu@c\u00f4ng-ty-\u0111\u00f4ng-\u00e1.vn", "\u0438\u0432\u0430\u043d@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",
     "info@\u65e5\u672c\u30ab\u3072.jp", "a-1_b@x.vn"],
)  # fmt: skip
def test_an_address_whose_parts_each_use_one_script_passes(address):
    check_address(address)


def test_the_model_validator_refuses_a_mixed_script_address():
    with pytest.raises(ValidationError, match="mixes scripts"):
        validate_address("\u0430dmin@bhxh.example.vn")
    validate_address("admin@bhxh.example.vn")


@pytest.mark.parametrize(
    ("address", "letter"),
    [
        ("\u0410dmin@bhxh.example.vn", "U+0410 CYRILLIC CAPITAL LETTER A"),  # an upper-case stranger
        ("\u1f88dmin@bhxh.example.vn", "U+1F88 GREEK CAPITAL LETTER ALPHA WITH PSILI AND PROSGEGRAMMENI"),  # title case
        ("vanthu\u0e01@bhxh.example.vn", "U+0E01 THAI CHARACTER KO KAI"),  # a letter of no case
        ("vanthu\u0663@bhxh.example.vn", "U+0663 ARABIC-INDIC DIGIT THREE"),  # a digit of another script
    ],
)
def test_every_kind_of_letter_and_digit_counts_as_a_stranger(address, letter):
    with pytest.raises(EmailNotValidError, match=f"mixes scripts: .*{re.escape(letter)}"):
        check_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "\u0438\u0432\u0430\u043d-1@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",  # ASCII digits and dashes belong to no script
        "vanthu\u00b7@bhxh.example.vn",  # nor does punctuation
        "nhansu@co\u0302ng-ty.vn",  # nor a combining accent
        "info@\u65e5\u672c\u30ab\u3072jp.jp",  # Japanese writing mixes all four of its scripts
        "info@\u043f\u0440\u0438\u043c\u0435\u0440.vn",  # each domain label has its own script
    ],
)
def test_signs_that_are_not_letters_never_make_a_mix(address):
    check_address(address)


def test_an_address_longer_than_254_characters_is_refused_though_each_part_fits():
    address = "a" * 20 + "@" + ".".join(["b" * 60] * 3) + "." + "c" * 48 + ".vn"
    assert len(address) == 255 and len(address.split("@")[1]) < 254 - len("postmaster@")
    with pytest.raises(EmailNotValidError, match="too long"):
        check_address(address)


def test_the_model_validator_checks_each_domain_label_on_its_own_and_names_its_code():
    validate_address("info@\u043f\u0440\u0438\u043c\u0435\u0440.vn")  # a Latin local part, a Cyrillic label, .vn
    with pytest.raises(ValidationError) as refused:
        validate_address("admin@b\u04bbxh.example.vn")
    assert [error.code for error in refused.value.error_list] == ["mixed_scripts"]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("\u0430dmin@bhxh.example.vn",
         "“\u0430dmin” mixes scripts: \u0430 (U+0430 CYRILLIC SMALL LETTER A) is not a Latin letter, though it may look like one."),
        # Latin letters set the standard even when fewer: they are what a disguised address imitates.
        ("\u0438\u0432a@bhxh.example.vn",
         "“\u0438\u0432a” mixes scripts: \u0438 (U+0438 CYRILLIC SMALL LETTER I), \u0432 (U+0432 CYRILLIC SMALL LETTER VE) "
         "is not a Latin letter, though it may look like one."),
        # Without Latin letters, the script most letters use sets the standard.
        ("\u0438\u0432\u03bf\u043d@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",
         "“\u0438\u0432\u03bf\u043d” mixes scripts: \u03bf (U+03BF GREEK SMALL LETTER OMICRON) is not a Cyrillic letter, "
         "though it may look like one."),
    ],
)  # fmt: skip
def test_the_refusal_names_the_strangers_against_the_main_script(address, message):
    with pytest.raises(EmailNotValidError) as refused:
        check_address(address)
    assert str(refused.value) == message
