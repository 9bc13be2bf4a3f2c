"""Real Chromium: the drafter attaches merge data, reads the check and previews one organisation's copy; the
approver previews it too and sees three copies at random with the counts before approving."""

from __future__ import annotations

import pytest

from notices.models import Dispatch, DispatchStatus
from recipients.models import Organization, OrganizationEmail, OrganizationKind, OrganizationLevel
from tests.notices.test_browser_flow import Person, browser  # noqa: F401 (the fixture)
from tests.notices.test_copies import pdf_text
from tests.recipients.conftest import xlsx_bytes

HEADER = ["Mã đơn vị", "Số tiền nợ", "Tháng"]
# The WCAG contrast ratio of a heading's text (of its link, if the name is one) on the heading's background.
HEADING_CONTRAST = """h => {
  const luminance = css => {
    const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map(v => v / 255)
      .map(c => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [text, back] = [getComputedStyle(h.querySelector("a") || h).color, getComputedStyle(h).backgroundColor]
    .map(luminance);
  return (Math.max(text, back) + 0.05) / (Math.min(text, back) + 0.05);
}"""


def owed(index: int) -> str:
    """The debt of the employer of that index, as a copy prints it (each different, so a mix-up shows)."""
    return f"{1_000_000 * index + 234_567:,}".replace(",", ".") + " đồng"


@pytest.fixture
def employers(transactional_db) -> list[Organization]:
    orgs = [Organization.objects.create(name=f"Công ty Sông Đà {i}", kind=OrganizationKind.EMPLOYER,
                                        level=OrganizationLevel.CITY, bhxh_code=f"SD{i:04d}") for i in range(1, 5)]  # fmt: skip
    for org in orgs:
        OrganizationEmail.objects.create(organization=org, address=f"ke-toan{org.pk}@example.com", primary=True)
    return orgs


@pytest.fixture
def personalised(draft, employers) -> Dispatch:
    draft.personalised = True
    draft.subject = "đôn đốc thu nợ BHXH"
    draft.addressees = "{{ ten_don_vi }}"
    draft.body = "<p>Đơn vị còn nợ {{ so_tien_no|money }}, các tháng {% for r in table %}{{ r.thang }} {% endfor %}</p>"
    draft.save()
    draft.organizations.set(employers)
    return draft


def merge_file(tmp_path, name: str, employers, unknown: bool = False):
    """Write the merge data: three months owed per employer (a code no employer has when `unknown`)."""
    rows = [HEADER]
    for index, org in enumerate(employers, 1):
        rows += [[org.bhxh_code, 1_000_000 * index + 234_567, f"{month:02d}/2026"] for month in (1, 2, 3)]
    if unknown:
        rows.append(["KHONGCO", 5, "01/2026"])
    path = tmp_path / name
    path.write_bytes(xlsx_bytes(rows))
    return path


def preview_of(person: Person, organization: Organization) -> bytes:
    """Return the draft PDF behind the merge page's preview link of `organization`, fetched in the person's session."""
    link = person.page.locator(".merge-records a", has_text=organization.name)
    response = person.page.request.get(f"{person.base}{link.get_attribute('href')}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    return response.body()


def test_the_drafter_and_the_approver_preview_copies_and_the_approver_sees_three_before_approving(
    browser,  # noqa: F811
    live_server,
    personalised,
    employers,
    drafter,
    approver,
    tmp_path,
):
    # 1. The drafter attaches a file missing one employer, with an unknown code: the check lists both.
    writer = Person(browser, live_server, drafter.username)
    writer.open(f"/admin/notices/dispatch/{personalised.pk}/change/")
    writer.click_and_wait("a.merge-data")
    writer.page.set_input_files("#id_file", str(merge_file(tmp_path, "thieu.xlsx", employers[:3], unknown=True)))
    writer.page.select_option("#id_match_key", "bhxh_code")
    writer.click_and_wait(".merge-upload input[type=submit]")
    writer.shot("merge-1-problems")
    assert "3 of 4 targeted organisations have data." in writer.page.inner_text(".merge-counts")
    problems = writer.page.inner_text(".merge-problems")
    assert "Row 11: no organisation has the code KHONGCO." in problems
    assert "No row for the organisation “Công ty Sông Đà 4”." in problems

    # 2. The corrected file: no problem; the drafter previews the third employer's copy.
    writer.page.set_input_files("#id_file", str(merge_file(tmp_path, "du.xlsx", employers)))
    writer.page.select_option("#id_match_key", "bhxh_code")
    writer.click_and_wait(".merge-upload input[type=submit]")
    writer.shot("merge-2-checked")
    assert "4 of 4 targeted organisations have data." in writer.page.inner_text(".merge-counts")
    assert writer.page.locator(".merge-ok").count() == 1
    text = pdf_text(preview_of(writer, employers[2]))
    assert "DỰ THẢO" in text and "Kính gửi: Công ty Sông Đà 3" in text
    assert f"Đơn vị còn nợ {owed(3)}, các tháng 01/2026 02/2026 03/2026" in text
    assert [i for i in range(1, 5) if owed(i) in text] == [3]
    writer.open(f"/admin/notices/dispatch/{personalised.pk}/change/")
    writer.click_and_wait("button.workflow-submit")
    assert Dispatch.objects.get(pk=personalised.pk).status == DispatchStatus.SUBMITTED

    # 3. The approver previews a copy too, then sees three copies at random and the counts before approving.
    reviewer = Person(browser, live_server, approver.username)
    reviewer.open(f"/admin/notices/dispatch/{personalised.pk}/merge/")
    assert reviewer.page.locator(".merge-upload").count() == 0  # the approver reads the data, never replaces it
    text = pdf_text(preview_of(reviewer, employers[0]))
    assert "DỰ THẢO" in text and owed(1) in text and [i for i in range(1, 5) if owed(i) in text] == [1]
    reviewer.open(f"/admin/notices/dispatch/{personalised.pk}/change/")
    reviewer.click_and_wait(".workflow-approve")
    reviewer.shot("merge-3-approval")
    assert "4 of 4 targeted organisations have data." in reviewer.page.inner_text(".merge-counts")
    samples = reviewer.page.locator(".merge-sample")
    assert samples.count() == 3
    for i in range(3):
        sample = samples.nth(i).inner_text()
        assert samples.nth(i).locator("h2").evaluate(HEADING_CONTRAST) >= 4.5  # the name is readable on its heading
        (index,) = [n for n in range(1, 5) if f"Công ty Sông Đà {n}" in sample]
        assert owed(index) in sample and [n for n in range(1, 5) if owed(n) in sample] == [index]
    reviewer.click_and_wait(".approve-confirmation input[type=submit]")
    reviewer.shot("merge-4-approved")
    approved = Dispatch.objects.get(pk=personalised.pk)
    assert approved.status == DispatchStatus.APPROVED and approved.approved_by == approver
