"""The template filters that name people (notices/templatetags/people.py)."""

from __future__ import annotations


def test_the_greeting_names_the_user_in_vietnamese_order(client, auditor):
    auditor.first_name, auditor.last_name = "Kiểm", "Phạm Văn"
    auditor.save()
    client.force_login(auditor)
    assert '<strong class="user-full-name">Phạm Văn Kiểm</strong>' in client.get("/admin/").content.decode()
    auditor.first_name = auditor.last_name = ""
    auditor.save()
    assert '<strong class="user-full-name">kiemtoan</strong>' in client.get("/admin/").content.decode()
