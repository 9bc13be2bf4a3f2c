"""A local test PKI with a time-stamping authority and OCSP/CRL responders, served over HTTP on 127.0.0.1.

Certomancer (pyHanko's own test PKI tool) builds the certificates from the configuration below, and its
Animator (a WSGI application) answers RFC 3161 timestamp requests, OCSP requests and CRL downloads; werkzeug
serves it in a thread. The agency's certificate is valid from a year ago to `SIGNER_DAYS_LEFT` days from now; the
root, the OCSP responder and the TSA for ten years, so a test can check a signature at a moment after the signer's
expiry. `Outage` in front of the Animator lets a test make the TSA fail a number of times, or hang.
"""

from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import pem
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import CertomancerConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

ARCH = "bhxh-test"
PASSWORD = b"test-pki-password"
SIGNER_DAYS_LEFT = 30
KEYS = ("root", "ocsp", "tsa", "agency")


def _key_file(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))  # fmt: skip


def _when(days: int) -> str:
    moment = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _usage(*params: str) -> dict:
    return {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": list(params)}}


def configuration(url_prefix: str) -> dict:
    """Return the Certomancer configuration of the test PKI whose services live under `url_prefix`."""
    long = {"valid-from": _when(-365), "valid-to": _when(3650)}
    crl = {"id": "crl_distribution_points", "smart-value": {"schema": "crl-dist-url",
                                                             "params": {"crl-repo-names": ["root"]}}}  # fmt: skip
    ocsp = {"id": "authority_information_access", "smart-value": {"schema": "aia-urls",
                                                                   "params": {"ocsp-responder-names": ["root"]}}}  # fmt: skip
    return {
        "external-url-prefix": url_prefix,
        "keysets": {ARCH: {"keys": {name: {"path": f"{name}.key.pem"} for name in KEYS}}},
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "VN", "organization-name": "BHXH thử nghiệm (test PKI)"},
                "entities": {
                    "root": {"common-name": "Test Root CA"},
                    "ocsp": {"common-name": "Test OCSP responder"},
                    "tsa": {"common-name": "Test Time-Stamping Authority"},
                    "agency": {"common-name": "Bảo hiểm xã hội thành phố Hà Nội (kiểm thử)"},
                },
                "certs": {
                    "root": {
                        "subject": "root",
                        "issuer": "root",
                        "validity": long,
                        "extensions": [
                            {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                            _usage("digital_signature", "key_cert_sign", "crl_sign"),
                        ],
                    },  # fmt: skip
                    "ocsp": {
                        "issuer": "root",
                        "validity": long,
                        "extensions": [
                            _usage("digital_signature"),
                            {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                            {"id": "ocsp_no_check"},
                        ],
                    },  # fmt: skip
                    "tsa": {
                        "issuer": "root",
                        "validity": long,
                        "extensions": [
                            _usage("digital_signature"),
                            {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                            crl,
                        ],
                    },  # fmt: skip
                    "agency": {
                        "issuer": "root",
                        "extensions": [_usage("digital_signature", "non_repudiation"), crl, ocsp],
                        "validity": {"valid-from": _when(-365), "valid-to": _when(SIGNER_DAYS_LEFT)},
                    },  # fmt: skip
                },
                "services": {
                    "ocsp": {"root": {"for-issuer": "root", "responder-cert": "ocsp", "signing-key": "ocsp"}},
                    "crl-repo": {
                        "root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P30D"}
                    },  # fmt: skip
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }


@dataclass
class Outage:
    """The WSGI application in front of the Animator: the TSA answers 503 `failures` times, or hangs `hang` s."""

    app: object = None
    failures: int = 0
    hang: float = 0.0
    tsa_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].startswith(f"/{ARCH}/tsa/"):
            with self.lock:
                self.tsa_requests += 1
                failing = self.failures > 0
                self.failures -= failing
            if self.hang:
                time.sleep(self.hang)
            if failing:
                return Response("TSA unavailable", status=503)(environ, start_response)
        return self.app(environ, start_response)


@dataclass
class TestPKI:
    """A running test PKI: where its files are and its services' URLs."""

    directory: Path
    url: str
    outage: Outage
    server: object

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"

    @property
    def p12(self) -> Path:
        return self.directory / "agency.p12"

    @property
    def roots(self) -> Path:
        return self.directory / "root.pem"

    def stop(self) -> None:
        self.server.shutdown()


def start(directory: Path) -> TestPKI:
    """Make the test PKI's keys and certificates in `directory`, serve its services, and return it."""
    for name in KEYS:
        _key_file(directory / f"{name}.key.pem")
    outage = Outage()
    server = make_server("127.0.0.1", 0, outage, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    config = CertomancerConfig(configuration(url), key_search_dir=str(directory))
    arch = config.get_pki_arch(ARCH)
    outage.app = Animator(AnimatorArchStore({ARCH: arch}), with_web_ui=False)
    (directory / "agency.p12").write_bytes(arch.package_pkcs12("agency", certs_to_embed=["root"], password=PASSWORD))
    (directory / "root.pem").write_bytes(pem.armor("CERTIFICATE", arch.get_cert("root").dump()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return TestPKI(directory, url, outage, server)
