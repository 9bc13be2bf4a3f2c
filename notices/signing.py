"""Sign issued dispatches (PAdES, SHA-256) with the agency's PKCS#12 certificate, and check signatures.

Without a time-stamping authority the signature is PAdES B-B. With SIGNING_TSA_URL it is PAdES B-LTA: pyHanko adds a
signature timestamp, fetches the OCSP/CRL answers for the signer's and the TSA's chains, embeds them with the
certificates in the document security store, and closes the file with a document timestamp; such a file is
checked with its embedded data at the time its timestamp proves, so it stays verifiable after the certificate
expires. A TSA or responder that fails or is slow is retried a bounded number of times; then signing raises
TimestampingUnavailable and nothing is stored.

Production uses the agency's real certificate named by SIGNING_PKCS12_PATH / SIGNING_PKCS12_PASSWORD and trusts the
roots in SIGNING_TRUSTED_ROOTS. In development (DEBUG on, no certificate configured) a development root and an agency
certificate issued by it, both named as development ("THỬ NGHIỆM"), are made under SIGNING_DEV_DIR on first use, and
only then is that development root trusted.
"""

from __future__ import annotations

import asyncio
import datetime
import fcntl
import io
import logging
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.utils import timezone
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, ValidationError
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from notices import rendering, signature_template
from notices.metrics import SIGNING_SECONDS
from notices.models.dispatch import DispatchError
from notices.signature_template import SignatureTemplate

log = logging.getLogger(__name__)

AGENCY_NAME = "Bảo hiểm xã hội thành phố Hà Nội"
# A common name holds at most 64 bytes: the unit name says the rest.
DEV_AGENCY_NAME = f"{AGENCY_NAME} (THỬ NGHIỆM)"
DEV_ROOT_NAME = "BHXH Hà Nội - CA THỬ NGHIỆM (development root)"
DEV_UNIT = "CHỨNG THƯ THỬ NGHIỆM (development only)"
DEV_PASSWORD = "dev-signing-password"  # public: the development certificate is never trusted in production


class SigningError(DispatchError):
    """The configured signing certificate cannot be used (missing file, wrong password): issuing stops."""


class TimestampingUnavailable(SigningError):
    """The time-stamping authority or a revocation responder did not answer in time, after the retries: issuing
    stops with nothing stored, and may be tried again later."""


@dataclass(frozen=True)
class SignatureVerdict:
    """What a PDF's last signature says: is it there, unaltered, made by a certificate that chains to one of the
    agency's trusted roots, and does it cover the whole file; who signed and when."""

    signed: bool
    intact: bool = False
    trusted: bool = False
    covers_whole_file: bool = False
    signer: str = ""
    signed_at: datetime.datetime | None = None
    checked: bool = True  # False: the check ran out of time or memory (the file is then not trusted)
    timestamped_at: datetime.datetime | None = None  # the time a trusted timestamp proves the signature existed
    long_term: bool = False  # PAdES B-LT(A): trusted with the embedded validation data at the timestamp's time

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.trusted and self.covers_whole_file


def development_mode() -> bool:
    """Return whether dispatches are signed with the development certificate (DEBUG on, none configured)."""
    return settings.DEBUG and not settings.SIGNING_PKCS12_PATH


def is_configured() -> bool:
    """Return whether dispatches are signed: a certificate is configured, or development signs with its own."""
    return bool(settings.SIGNING_PKCS12_PATH) or development_mode()


class AgencySigner(signers.SimpleSigner):
    """pyHanko's in-memory signer, keeping the private key it loaded.

    pyHanko's SimpleSigner parses the key again for every signature (about 25 ms of RSA key checks each time, a
    third of a signature's cost), and builds each CMS object afresh (most of the rest): this one signs PAdES
    digests from a template proven once per certificate. A personalised dispatch signs one copy per organisation.
    """

    @classmethod
    def of(cls, signer: signers.SimpleSigner) -> AgencySigner:
        return cls(signing_cert=signer.signing_cert, signing_key=signer.signing_key, cert_registry=signer.cert_registry)

    @cached_property
    def private_key(self):
        return serialization.load_der_private_key(self.signing_key.dump(), password=None)

    @cached_property
    def bytes_reserved(self) -> int:
        """Return the room kept in the file for the signature: twice the certificates and the raw signature, and
        4 KB for the signed attributes (pyHanko would otherwise sign twice per file to measure it)."""
        certificates = sum(len(cert.dump()) for cert in {self.signing_cert, *self.cert_registry})
        return 2 * (certificates + self.private_key.key_size // 8) + 4096

    @cached_property
    def templates(self) -> dict[tuple, SignatureTemplate | None]:
        return {}

    async def async_sign(self, data_digest, digest_algorithm, dry_run=False, use_pades=False, timestamper=None,
                         signed_attr_settings=None, is_pdf_sig=True, encap_content_info=None):  # fmt: skip
        """Sign a PAdES digest from the certificate's template (notices/signature_template.py); anything else
        (a dry run, a timestamp, CAdES attributes, another content) the way pyHanko does."""
        settings = signed_attr_settings or PdfCMSSignedAttributes()
        plain = use_pades and is_pdf_sig and not dry_run and timestamper is None and encap_content_info is None
        plain = plain and settings.cades_signed_attrs is None and settings.adobe_revinfo_attr is None
        template = await self.template_for(digest_algorithm, len(data_digest), settings) if plain else None
        if template is None:
            return await super().async_sign(data_digest, digest_algorithm, dry_run, use_pades, timestamper,
                                            settings, is_pdf_sig, encap_content_info)  # fmt: skip
        return template.fill(data_digest, lambda data: self.sign_raw(data, digest_algorithm))

    async def template_for(self, digest_algorithm: str, digest_length: int, settings) -> SignatureTemplate | None:
        """Return the certificate's proven template for this digest (made on first use), or None."""
        key = (digest_algorithm, digest_length)
        if key not in self.templates:

            async def sign(digest, attrs):
                return await super(AgencySigner, self).async_sign(digest, digest_algorithm, use_pades=True,
                                                                  signed_attr_settings=attrs)  # fmt: skip

            self.templates[key] = await signature_template.proven_template(sign, digest_length, settings)
        return self.templates[key]

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo != "rsassa_pkcs1v15" or not isinstance(self.private_key, rsa.RSAPrivateKey):
            return super().sign_raw(data, digest_algorithm)
        return self.private_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


@lru_cache(maxsize=4)
def load_signer(path: str, password: str, mtime: float) -> AgencySigner:
    """Return a signer for the PKCS#12 file (cached until the file changes)."""
    try:
        signer = signers.SimpleSigner.load_pkcs12(path, passphrase=password.encode() or None)
    except (OSError, ValueError) as exc:
        raise SigningError(f"Cannot read the signing certificate {path}: {exc}") from exc
    if signer is None:
        raise SigningError(f"Cannot open the signing certificate {path}: wrong password or not a PKCS#12 file.")
    return AgencySigner.of(signer)


def configured_signer() -> AgencySigner:
    """Return the signer named by the settings (in development, the development certificate, made if missing)."""
    if development_mode():
        path, password = development_certificate()[0], DEV_PASSWORD
    else:
        path, password = Path(settings.SIGNING_PKCS12_PATH), settings.SIGNING_PKCS12_PASSWORD
    if not path.is_file():
        raise SigningError(f"The signing certificate {path} does not exist (see create_dev_certificate).")
    return load_signer(str(path), password, path.stat().st_mtime)


def development_certificate() -> tuple[Path, Path]:
    """Return the development (PKCS#12, root PEM), creating them under SIGNING_DEV_DIR on first use.

    A lock file keeps the web server and a worker starting together from making two different roots.
    """
    directory = Path(settings.SIGNING_DEV_DIR)
    p12_path, root_path = directory / "signing.p12", directory / "dev-root.pem"
    if p12_path.is_file():  # written last, so the root is there too
        return p12_path, root_path
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not p12_path.is_file():
            create_development_certificates(directory, DEV_PASSWORD)
            log.warning("Created a development signing certificate in %s (never trusted in production).", directory)
    return p12_path, root_path


def trusted_roots() -> list:
    """Return the root certificates (asn1crypto) that a dispatch's signature must chain to.

    SIGNING_TRUSTED_ROOTS (a PEM file) when set; else the self-signed roots bundled with the signing certificate,
    which in development is the development root. With DEBUG off and nothing configured, nothing is trusted.
    """
    if settings.SIGNING_TRUSTED_ROOTS:
        return list(load_certs_from_pemder([settings.SIGNING_TRUSTED_ROOTS]))
    if not is_configured():
        return []
    return [cert for cert in configured_signer().cert_registry if cert.subject == cert.issuer]


class TimedPdfSigner(signers.PdfSigner):
    """A pyHanko signer whose signature carries a given signing time (the one printed on an appendix)."""

    def __init__(self, *args, signing_time: datetime.datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.signing_time = signing_time

    def init_signing_session(self, pdf_out, existing_fields_only=False):
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self.signing_time
        return session


class PatientTimeStamper(RequestsHTTPTimeStamper):
    """pyHanko's RFC 3161 client over `requests`, retrying a TSA that fails or times out a bounded number of times.

    Each request is bounded by SIGNING_TSA_TIMEOUT (connecting and each read); after SIGNING_TSA_RETRIES more
    attempts, spaced SIGNING_TSA_RETRY_DELAY seconds and doubling, it raises TimestampingUnavailable.
    """

    def __init__(self, url: str, timeout: float, retries: int, delay: float, auth=None) -> None:
        super().__init__(url, timeout=timeout, auth=auth)
        self.retries, self.delay = retries, delay

    async def async_request_tsa_response(self, req):
        for attempt in range(self.retries + 1):
            try:
                return await super().async_request_tsa_response(req)
            except TimestampRequestError as exc:
                log.warning("The time-stamping authority %s failed (attempt %s): %s", self.url, attempt + 1, exc)
                failure = exc
                if attempt < self.retries:
                    await asyncio.sleep(self.delay * 2**attempt)
        raise TimestampingUnavailable(
            f"The time-stamping authority {self.url} did not answer after {self.retries + 1} attempts: {failure}"
        ) from failure


@lru_cache(maxsize=4)
def timestamper_for(url: str, username: str, password: str, timeout: float, retries: int, delay: float):
    """Return the TSA client (kept: pyHanko caches the size of its first answer to reserve room in later files)."""
    auth = (username, password) if username else None
    return PatientTimeStamper(url, timeout=timeout, retries=retries, delay=delay, auth=auth)


def configured_timestamper() -> PatientTimeStamper | None:
    """Return the client of SIGNING_TSA_URL, or None when no time-stamping authority is configured."""
    if not settings.SIGNING_TSA_URL:
        return None
    return timestamper_for(settings.SIGNING_TSA_URL, settings.SIGNING_TSA_USERNAME, settings.SIGNING_TSA_PASSWORD,
                           settings.SIGNING_TSA_TIMEOUT, settings.SIGNING_TSA_RETRIES,
                           settings.SIGNING_TSA_RETRY_DELAY)  # fmt: skip


def fetching_context() -> ValidationContext:
    """Return the context that validates the signer's and the TSA's chains while signing, fetching their OCSP/CRL
    answers (each request bounded by SIGNING_TSA_TIMEOUT) for embedding: a revoked or unverifiable certificate
    stops the signing."""
    backend = RequestsFetcherBackend(per_request_timeout=settings.SIGNING_TSA_TIMEOUT)
    return ValidationContext(trust_roots=trusted_roots(), allow_fetching=True, fetcher_backend=backend,
                             revocation_mode="hard-fail")  # fmt: skip


def signature_metadata(reason: str, long_term: bool) -> signers.PdfSignatureMetadata:
    """Return the signature's settings: PAdES SHA-256; with a TSA, the validation data and a document timestamp."""
    return signers.PdfSignatureMetadata(
        field_name="ChuKySoCoQuan",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=settings.SIGNING_LOCATION,
        embed_validation_info=long_term,
        use_pades_lta=long_term,
        validation_context=fetching_context() if long_term else None,
    )


TIMESTAMP_ROOM = 16 * 1024  # bytes kept for the signature timestamp token (the TSA's certificates are inside)


@SIGNING_SECONDS.time()
def sign_pdf(data: bytes, reason: str = "", signing_time: datetime.datetime | None = None) -> bytes:
    """Return the PDF signed with the agency's certificate as an incremental update: PAdES B-B, or B-LTA when a
    time-stamping authority is configured. Raise TimestampingUnavailable when the TSA or a responder fails."""
    signer, timestamper = configured_signer(), configured_timestamper()
    metadata = signature_metadata(reason, long_term=timestamper is not None)
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    pdf_signer = (
        signers.PdfSigner(metadata, signer, timestamper=timestamper)
        if signing_time is None
        else TimedPdfSigner(metadata, signer, timestamper=timestamper, signing_time=signing_time)
    )
    room = signer.bytes_reserved + (TIMESTAMP_ROOM if timestamper else 0)
    try:
        return pdf_signer.sign_pdf(writer, bytes_reserved=room).getvalue()
    except (TimestampRequestError, PyHankoSigningError, ValidationError, PathBuildingError, OSError) as exc:
        if timestamper is None:
            raise
        raise TimestampingUnavailable(f"The long-term signature could not be completed: {exc}") from exc


def sign_if_configured(data: bytes, reason: str = "", signing_time: datetime.datetime | None = None) -> bytes:
    """Return the signed PDF when a certificate is configured, else the PDF unchanged (with a warning)."""
    if not is_configured():
        log.warning("SIGNING_PKCS12_PATH is not set: the PDF is stored unsigned.")
        return data
    return sign_pdf(data, reason, signing_time)


def sign_appendix(appendix, dispatch) -> bytes:
    """Return the appendix stamped with the dispatch's number and the signing time, signed by the agency.

    Decree 30 (Appendix I, II.8.b): a separate appendix file carries the agency's digital signature (no image) and,
    at the top right of page 1, the number/notation and the signing time in ISO 8601, Vietnam time. The stamped
    time and the signature's own signing time are the same instant.
    """
    if not dispatch.number:
        raise SigningError("Only an issued dispatch's appendices are signed: it has no number yet.")
    signed_at = timezone.now().replace(microsecond=0)
    stamped = rendering.stamp_appendix(appendix.read(), dispatch.notation, signed_at)
    reason = f"Phụ lục {appendix.position} của văn bản số {dispatch.notation}"
    return sign_if_configured(stamped, reason, signing_time=signed_at)


def validation_context(moment: datetime.datetime | None = None) -> ValidationContext:
    """Return a validation context that trusts the configured certificate's chain (and fetches nothing)."""
    return ValidationContext(trust_roots=trusted_roots(), allow_fetching=False, moment=moment)


def check_signature(data: bytes, at: datetime.datetime | None = None) -> SignatureVerdict:
    """Return what the PDF's last signature proves (as of `at`, default now); only a chain to a configured trusted
    root makes it trusted.

    A self-made certificate that merely carries the agency's name is intact but not trusted. A PAdES B-LT(A) file
    is trusted when its signer's chain holds, with the embedded certificates and revocation answers, at the time
    its signature timestamp proves, and its document timestamp holds now: so after the certificate expires. A
    B-B file is checked now, and once its certificate has expired it is honestly not trusted. Uploaded files are
    checked in the sandbox (`verification.sandboxed_signature_check`).
    """
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_regular_signatures
    except Exception:  # noqa: BLE001 - any unreadable upload is simply "not signed"
        log.info("An uploaded PDF could not be parsed for signatures.", exc_info=True)
        return SignatureVerdict(signed=False)
    if not embedded:
        return SignatureVerdict(signed=False)
    try:
        status = validate_pdf_signature(embedded[-1], validation_context(at))
        stamp = status.timestamp_validity
        long_term = long_term_status(reader, embedded[-1], stamp.timestamp) if stamp else None
    except Exception as exc:  # noqa: BLE001 - a hostile file may break the validator in any way
        log.info("An uploaded PDF's signature could not be validated: %s", exc)
        return SignatureVerdict(signed=True)
    trusted_now = bool(status.trusted)
    held = long_term is not None and long_term.trusted and long_term.intact and long_term.valid
    return SignatureVerdict(
        signed=True,
        intact=bool(status.intact and status.valid),
        trusted=trusted_now or held,
        covers_whole_file=covers_whole_file(status),
        signer=signer_name(status.signing_cert),
        signed_at=status.signer_reported_dt,
        timestamped_at=stamp.timestamp if held and stamp else None,
        long_term=held,
    )


def long_term_status(reader: PdfFileReader, signature, signed_at: datetime.datetime):
    """Return the signature validated with the document security store's data at the time its timestamp proves
    (`signed_at`), or None when the file has no DSS or no document timestamp that holds, with that data, at its
    own time: the data that outlives the certificate must itself be timestamped."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return None
    doc_timestamps = reader.embedded_timestamp_signatures
    if not doc_timestamps:
        return None
    last = doc_timestamps[-1]
    stamped_at = last.signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    doc_status = validate_pdf_timestamp(last, embedded_context(dss, stamped_at))
    if not (doc_status.intact and doc_status.valid and doc_status.trusted):
        return None
    then = embedded_context(dss, signed_at)
    return validate_pdf_signature(signature, then, then)


def embedded_context(dss: DocumentSecurityStore, moment: datetime.datetime) -> ValidationContext:
    """Return a context that trusts the configured roots and knows only the DSS's certificates, OCSP answers and
    CRLs, validating as of `moment`; a certificate with no embedded revocation answer is not trusted."""
    kwargs = {"trust_roots": trusted_roots(), "moment": moment, "allow_fetching": False, "revocation_mode": "hard-fail"}
    return dss.as_validation_context(kwargs)


def covers_whole_file(status) -> bool:
    """Return whether the signature covers the file, or everything after its revision is validation data and
    document timestamps (pyHanko's difference analysis: LTA updates only)."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    lta_only = status.modification_level == ModificationLevel.LTA_UPDATES
    return status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and lta_only


def signer_name(certificate: asn1_x509.Certificate) -> str:
    """Return the certificate's common name and organisation, as a reader would name the signer."""
    subject = certificate.subject.native
    parts = [subject.get("common_name"), subject.get("organization_name")]
    return " – ".join(dict.fromkeys(str(part) for part in parts if part))


# --- Development certificates ------------------------------------------------------------------
def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Hà Nội"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, AGENCY_NAME),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEV_UNIT),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(subject, issuer, public_key, signing_key, ca: bool, days: int) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CODE_SIGNING]),
            critical=False,
        )
    return builder.sign(signing_key, hashes.SHA256())


def create_development_certificates(directory: Path, password: str) -> tuple[Path, Path]:
    """Write a self-signed development root and an agency certificate; return (PKCS#12 path, root PEM path)."""
    directory.mkdir(parents=True, exist_ok=True)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _certificate(
        _name(DEV_ROOT_NAME), _name(DEV_ROOT_NAME), root_key.public_key(), root_key, ca=True, days=3650,
    )  # fmt: skip
    agency_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    agency = _certificate(_name(DEV_AGENCY_NAME), root.subject, agency_key.public_key(), root_key, ca=False, days=825)
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    bundle = pkcs12.serialize_key_and_certificates(b"bhxh-hanoi-dev", agency_key, agency, [root], encryption)
    p12_path, root_path = directory / "signing.p12", directory / "dev-root.pem"
    _write_atomically(root_path, root.public_bytes(serialization.Encoding.PEM), 0o644)
    _write_atomically(p12_path, bundle, 0o600)  # last: its presence means both are complete
    return p12_path, root_path


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(data)
    partial.chmod(mode)
    partial.replace(path)
