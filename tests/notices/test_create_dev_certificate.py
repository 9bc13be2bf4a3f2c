"""The create_dev_certificate command: a development root and a usable PKCS#12 under it."""

from __future__ import annotations

import io

from django.core.management import call_command

from notices import signing


def test_create_dev_certificate_writes_a_usable_pkcs12(tmp_path, settings):
    call_command("create_dev_certificate", "--directory", str(tmp_path), "--password", "pw", stdout=io.StringIO())
    settings.SIGNING_PKCS12_PATH, settings.SIGNING_PKCS12_PASSWORD = str(tmp_path / "signing.p12"), "pw"
    assert (tmp_path / "dev-root.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert "Bảo hiểm xã hội thành phố Hà Nội" in signing.configured_signer().signing_cert.subject.human_friendly
