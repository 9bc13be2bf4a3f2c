from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from notices.models import Dispatch, Issuer
from recipients.models import Organization


@pytest.mark.django_db
def test_it_seeds_the_demo_once_however_often_it_runs(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (Issuer.objects.count(), Organization.objects.count(), Dispatch.objects.count())
    call_command("seed_demo")
    assert (Issuer.objects.count(), Organization.objects.count(), Dispatch.objects.count()) == counts
    assert Organization.objects.filter(kind="bhxh").count() == 23
    assert get_user_model().objects.get(username="vanthu").groups.get().name == "Văn thư"
    assert "demo-congvan-2026" in capsys.readouterr().out
    assert Dispatch.objects.get().status == "approved"  # ready for the clerk to issue


@pytest.mark.django_db
def test_it_refuses_to_create_demo_users_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()
