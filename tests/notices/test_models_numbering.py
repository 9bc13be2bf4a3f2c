"""The gapless outgoing register: concurrent issuing, the yearly restart in Hà Nội time, the DB constraint."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from notices import issuing
from notices.models import Dispatch, Issuer, RegisterCounter
from tests.conftest import approve
from tests.notices.conftest import at_hanoi_time


def another_issuer() -> Issuer:
    return Issuer.objects.create(parent_body="BẢO HIỂM XÃ HỘI VIỆT NAM", name="BẢO HIỂM XÃ HỘI TỈNH BẮC NINH",
                                 abbreviation="BHXH", place="Bắc Ninh")  # fmt: skip


def copy_of(draft: Dispatch, subject: str) -> Dispatch:
    return Dispatch.objects.create(
        issuer=draft.issuer, drafting_unit=draft.drafting_unit, signer=draft.signer, subject=subject, body=draft.body
    )


@pytest.mark.django_db(transaction=True)
def test_two_clerks_issuing_at_once_get_distinct_consecutive_numbers(draft, clerk, monkeypatch):
    other = copy_of(draft, "thứ hai")
    barrier, errors = threading.Barrier(2), []

    def issue(dispatch: Dispatch) -> None:
        try:
            barrier.wait()
            issuing.issue(approve(dispatch), clerk)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(d,)) for d in (draft, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    numbers = sorted(Dispatch.objects.values_list("number", flat=True))
    assert numbers == [1, 2]
    assert {d.notation for d in Dispatch.objects.all()} == {"01/BHXH-QLT", "02/BHXH-QLT"}


@pytest.mark.django_db
def test_numbers_restart_at_01_on_the_first_of_january_hanoi_time(draft, clerk, monkeypatch):
    # No fan-out runs: the test's transaction never commits, so the queued on-commit start never fires.
    at_hanoi_time(monkeypatch, 2026, 12, 31, 23, 30)
    issuing.issue(approve(draft), clerk)
    issuing.issue(approve(copy_of(draft, "cuối năm")), clerk)
    # 00:10 on 1 January in Hà Nội is still 31 December in UTC: the Hà Nội calendar decides.
    at_hanoi_time(monkeypatch, 2027, 1, 1, 0, 10)
    new_year = copy_of(draft, "đầu năm")
    issuing.issue(approve(new_year), clerk)

    assert (draft.year, draft.number) == (2026, 1)
    assert (new_year.year, new_year.number, new_year.notation) == (2027, 1, "01/BHXH-QLT")
    assert new_year.place_date_line() == "Hà Nội, ngày 01 tháng 01 năm 2027"


@pytest.mark.django_db
def test_the_database_refuses_a_repeated_number(draft):
    Dispatch.objects.filter(pk=draft.pk).update(year=2026, series="regular", number=7)
    twin = copy_of(draft, "trùng số")
    with pytest.raises(IntegrityError), transaction.atomic():
        Dispatch.objects.filter(pk=twin.pk).update(year=2026, series="regular", number=7)
    # The same number in the secret series is another register, so it is allowed.
    Dispatch.objects.filter(pk=twin.pk).update(year=2026, series="secret", number=7)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections at once need PostgreSQL")
def test_two_clerks_taking_numbers_from_an_existing_counter_never_share_one(issuer):
    """A counter that already exists: the second clerk must wait for the first, never read the old value."""
    RegisterCounter.objects.create(issuer=issuer, year=2026, series="regular", last_number=4)
    first_took, numbers, errors = threading.Event(), {}, []

    def take(name: str, wait_for: threading.Event | None) -> None:
        try:
            if wait_for is not None:
                wait_for.wait(10)
            with transaction.atomic():
                numbers[name] = RegisterCounter.take_next(issuer.pk, 2026, "regular")
                if wait_for is None:
                    first_took.set()
                    time.sleep(0.5)  # hold the first clerk's transaction open while the second one asks
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=take, args=("first", None)),
        threading.Thread(target=take, args=("second", first_took)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert (numbers["first"], numbers["second"]) == (5, 6)
    assert RegisterCounter.objects.get(issuer=issuer, year=2026, series="regular").last_number == 6


@pytest.mark.django_db
def test_the_register_year_is_the_hanoi_year_when_the_clock_runs_in_utc(draft, clerk, monkeypatch):
    # No fan-out runs: the test's transaction never commits, so the queued on-commit start never fires.
    # 17:10 UTC on 31 December is 00:10 on 1 January in Hà Nội (UTC+7).
    moment = datetime.datetime(2026, 12, 31, 17, 10, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    issuing.issue(approve(draft), clerk)
    draft.refresh_from_db()
    assert (draft.year, draft.number) == (2027, 1)
    assert RegisterCounter.objects.filter(year=2027, last_number=1).exists()
    assert not RegisterCounter.objects.filter(year=2026).exists()


@pytest.mark.django_db
def test_the_number_shown_before_issuing_is_the_next_of_its_own_issuer_year_and_series(issuer):
    assert RegisterCounter.peek_next(issuer.pk, 2026, "regular") == 1, "an unused series starts at 01"
    other = another_issuer()
    RegisterCounter.objects.create(issuer=other, year=2026, series="regular", last_number=30)
    RegisterCounter.objects.create(issuer=issuer, year=2025, series="regular", last_number=40)
    RegisterCounter.objects.create(issuer=issuer, year=2026, series="secret", last_number=9)
    assert RegisterCounter.peek_next(issuer.pk, 2026, "regular") == 1
    RegisterCounter.objects.create(issuer=issuer, year=2026, series="regular", last_number=4)
    assert RegisterCounter.peek_next(issuer.pk, 2026, "regular") == 5
    assert RegisterCounter.peek_next(issuer.pk, 2026, "secret") == 10


@pytest.mark.django_db
def test_each_issuer_and_series_keeps_its_own_register(issuer):
    other = another_issuer()
    assert RegisterCounter.take_next(other.pk, 2026, "regular") == 1
    assert RegisterCounter.take_next(issuer.pk, 2026, "regular") == 1
    assert RegisterCounter.take_next(other.pk, 2026, "regular") == 2
    assert RegisterCounter.take_next(issuer.pk, 2026, "secret") == 1, "the secret series is a register of its own"
    assert RegisterCounter.take_next(issuer.pk, 2026, "regular") == 2
