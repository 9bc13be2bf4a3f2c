"""Per-delivery return paths (notices/returnpath.py): only a token we issued names a delivery."""

from __future__ import annotations

from notices import returnpath


def test_a_return_path_names_its_delivery(settings):
    settings.BOUNCE_ADDRESS = "Hộp thư báo lỗi <bounces@bhxh.example.vn>"
    address = returnpath.address_for(42)

    assert address.startswith("bounces+42-") and address.endswith("@bhxh.example.vn")
    assert returnpath.delivery_id_of(address) == 42
    assert returnpath.delivery_id_of(f"Mail Delivery <{address.upper()}>") == 42  # a server changed the case


def test_a_forged_or_borrowed_tag_names_no_delivery(settings):
    settings.BOUNCE_ADDRESS = "bounces@bhxh.example.vn"
    tag = returnpath.tag(42)
    forged = "0" * returnpath.TAG_LENGTH if tag != "0" * returnpath.TAG_LENGTH else "1" * returnpath.TAG_LENGTH

    assert returnpath.delivery_id_of(f"bounces+42-{forged}@bhxh.example.vn") is None
    assert returnpath.delivery_id_of(f"bounces+43-{tag}@bhxh.example.vn") is None  # 42's tag on another delivery
    assert returnpath.delivery_id_of("bounces@bhxh.example.vn") is None
    assert returnpath.delivery_id_of("") is None


def test_the_tag_depends_on_the_secret_key(settings):
    settings.BOUNCE_ADDRESS = "bounces@bhxh.example.vn"
    address = returnpath.address_for(42)
    settings.SECRET_KEY = "another-secret-key-" * 3
    assert returnpath.delivery_id_of(address) is None


def test_it_is_off_without_a_bounce_address(settings):
    settings.BOUNCE_ADDRESS = ""
    assert not returnpath.is_enabled()
