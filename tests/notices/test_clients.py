"""The caller's address: REMOTE_ADDR as the web server gives it, never a header the caller writes."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from notices.clients import client_ip


@pytest.mark.parametrize(
    ("remote_addr", "expected"),
    [("10.1.2.3", "10.1.2.3"), ("2001:db8::1", "2001:db8::1"), ("", None), ("not-an-address", None)],
)
def test_the_address_is_remote_addr_when_it_is_an_address(remote_addr, expected):
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR=remote_addr)) == expected


def test_a_forwarded_header_the_caller_wrote_is_ignored():
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "10.1.2.3"


def test_no_request_has_no_address():
    assert client_ip(None) is None
