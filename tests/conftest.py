"""Shared fixtures: named personas, the issuer's data, a real SMTP server and a real Celery worker."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import translation

from config.celery import app as celery_app
from notices import roles
from notices.models import Dispatch, DispatchStatus, DraftingUnit, Issuer, Signer
from recipients.models import Organization, OrganizationEmail, OrganizationKind, OrganizationLevel, RecipientGroup
from tests.s3_server import S3Server
from tests.second_factor import VerifiedClient
from tests.smtp_sink import SmtpSink

pytest_plugins = [
    "tests.notices.delivery_fixtures",  # issue_to, fresh_broker, sent (the delivery tests)
    "tests.notices.merge_fixtures",  # employers, personalised, uploaded (the merge data tests)
    "tests.notices.edxml_fixtures",  # bodies, exported, issued_as_stored (the edXML tests)
    "tests.notices.correction_fixtures",  # steward, bounced, item (the correction loop's tests)
    "tests.notices.dashboard_fixtures",  # seeded (the dashboard's tests)
    "tests.notices.mail_trust_fixtures",
    "tests.browser_fixtures",  # browser (a headless Chromium), CHROMIUM_ARGS  # dkim, dovecot, bounce_mailbox (the DKIM and bounce tests)
]
WORKER_QUEUES = ["render", "send-urgent", "send", "events", "callbacks", "celery"]


@pytest.fixture(scope="session", autouse=True)
def _no_stray_sessions_at_teardown(django_db_setup, django_db_blocker):
    """End database sessions that request threads of the live server still hold when the tests are over.

    A page under test polls the server (the live progress badge); a request can still be running in one of
    the live server's threads when its browser closes, and its connection would keep PostgreSQL from
    dropping the test database.
    """
    yield
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        if connections["default"].vendor == "postgresql":
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Run tests in the English source language, so assertions read as the code does.

    The product's default is Vietnamese (settings.LANGUAGE_CODE = "vi"); tests/config/test_locale.py
    checks that default and the catalogue explicitly.
    """
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    """Keep stored PDFs and outbox files of each test in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OUTBOX_DIR = tmp_path / "outbox"
    settings.SEND_RETRY_BASE_SECONDS = 0.05
    # Password hashing is slow by design; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client() -> VerifiedClient:
    """Django's test client; `force_login` passes the second factor too (tests/second_factor.py)."""
    return VerifiedClient()


@pytest.fixture
def admin_client(db, admin_user) -> VerifiedClient:
    client = VerifiedClient()
    client.force_login(admin_user)
    return client


@pytest.fixture
def issuer(db) -> Issuer:
    return Issuer.objects.create(
        parent_body="BẢO HIỂM XÃ HỘI VIỆT NAM",
        name="BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI",
        abbreviation="BHXH",
        place="Hà Nội",
        address="Số 15 phố Trần Phú, phường Hà Đông, thành phố Hà Nội",
        phone="1900 9068",
        email="congvan@bhxh.example.vn",
    )


@pytest.fixture
def unit(issuer) -> DraftingUnit:
    return DraftingUnit.objects.create(issuer=issuer, name="Phòng Quản lý thu", abbreviation="QLT")


@pytest.fixture
def signer(issuer) -> Signer:
    return Signer.objects.create(
        issuer=issuer, full_name="Nguyễn Văn Minh", authority="KT. GIÁM ĐỐC", position="PHÓ GIÁM ĐỐC"
    )


def wait_until(predicate, timeout: float = 60.0) -> None:
    """Wait for a condition that a worker brings about; fail the test when it does not come in time."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def make_user(username: str, role: str):
    user = get_user_model().objects.create_user(
        username, f"{username}@bhxh.example.vn", "pw-for-tests-only", is_staff=True
    )
    user.groups.add(roles.ensure_roles()[role])
    return user


@pytest.fixture
def drafter(db):
    return make_user("soanthao", roles.DRAFTER)


@pytest.fixture
def approver(db):
    return make_user("pheduyet", roles.APPROVER)


@pytest.fixture
def clerk(db):
    return make_user("vanthu", roles.CLERK)


@pytest.fixture
def auditor(db):
    return make_user("kiemtoan", roles.AUDITOR)


def make_group(size: int, name: str = "BHXH cơ sở", label: str = "BHXH các quận, huyện, thị xã") -> RecipientGroup:
    """Create a group of `size` district offices, each with one primary address."""
    group = RecipientGroup.objects.create(name=name, label=label)
    orgs = Organization.objects.bulk_create(
        Organization(name=f"Bảo hiểm xã hội cơ sở số {i:03d}", search_name=f"bao hiem xa hoi co so so {i:03d}",
                     kind=OrganizationKind.SOCIAL_SECURITY_OFFICE, level=OrganizationLevel.DISTRICT)
        for i in range(size)
    )  # fmt: skip
    OrganizationEmail.objects.bulk_create(
        OrganizationEmail(organization=org, address=f"office{i:03d}@bhxh-hanoi.example.vn", primary=True)
        for i, org in enumerate(orgs)
    )
    group.members.set(orgs)
    return group


@pytest.fixture
def draft(issuer, unit, signer, drafter) -> Dispatch:
    return Dispatch.objects.create(
        issuer=issuer,
        drafting_unit=unit,
        signer=signer,
        subject="phối hợp đôn đốc đóng BHXH, BHYT năm 2026",
        body="<p>Bảo hiểm xã hội thành phố Hà Nội đề nghị Quý cơ quan phối hợp thực hiện./.</p>",
        created_by=drafter,
    )


def with_recipient(dispatch: Dispatch) -> Dispatch:
    """Give a dispatch that targets nobody one organisation with an address (nobody may issue it otherwise)."""
    if not dispatch.groups.exists() and not dispatch.organizations.exists():
        dispatch.groups.add(make_group(1, name=f"Nhóm của công văn {dispatch.pk}"))
    return dispatch


def approve(dispatch: Dispatch) -> Dispatch:
    """Move a draft straight to approved, for tests about what happens after approval; return it.

    A dispatch that targets nobody gets one recipient: the workflow refuses to issue it otherwise.
    """
    with_recipient(dispatch)
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.APPROVED)
    dispatch.refresh_from_db()
    return dispatch


@pytest.fixture
def approved(draft) -> Dispatch:
    return approve(draft)


@pytest.fixture
def smtp_server(settings):
    """A real aiosmtpd server that Django's SMTP backend sends to."""
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_DELIVERY = "smtp"  # the engine's transport (notices.transports)
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        yield sink


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (moto's, in a child process on 127.0.0.1) with an empty bucket."""
    with S3Server() as server:
        yield server


@pytest.fixture
def s3_storage(settings, s3_server) -> S3Server:
    """Store the test's files in the S3 server's bucket, as a deployment with AWS_STORAGE_BUCKET_NAME does."""
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_backend()}
    return s3_server


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker, in a thread, consuming every queue from the test Redis."""
    celery_app.control.purge()
    # The worker thread keeps its own database connection; close it after each task so that no
    # session is left holding the test database when pytest-django drops it.
    task_postrun.connect(close_worker_connections, weak=False)
    try:
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, queues=WORKER_QUEUES, shutdown_timeout=30
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_worker_connections)


def close_worker_connections(**kwargs) -> None:
    connections.close_all()
