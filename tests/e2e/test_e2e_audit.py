"""The auditor's page: the audit log, readable (one line per changed field) and filterable."""
import re

from playwright.sync_api import expect

from yiwang.accounts.models import User
from yiwang.core.models import AuditEntry


def test_auditor_reads_and_filters_the_log(new_page, sign_in):
    # one refused sign-in to find (a demo login: the next successful sign-in clears its failure count)
    sign_in(new_page(), "wlne_grid1", "not-the-password")
    page = sign_in(new_page(), "auditor")
    expect(page).to_have_url(re.compile("/accounts/audit/$"))
    expect(page.locator("main h1")).to_contain_text("审计日志")
    # changes read "field: old → new", not a JSON tree a screen tall (the role assignments are asked for by
    # the filter: other tests' committed entries may have pushed the demo's off the first page)
    page.goto("/accounts/audit/?action=accounts.assign_role")
    row = page.locator("table tbody tr", has_text="accounts.assign_role").first
    expect(row.locator("td.yw-changes")).to_contain_text(re.compile(r"role: — → \w+"))
    assert row.evaluate("r => r.getBoundingClientRect().height") < 120

    # the result filter offers 全部 / 成功 / 拒绝, and 拒绝 keeps only refusals
    expect(page.locator("#id_allowed option")).to_have_text(["全部", "成功", "拒绝"])
    page.select_option("#id_allowed", label="拒绝")
    page.fill("#id_action", "accounts.login")
    assert page.locator("#id_at_after").get_attribute("type") == "date"
    with page.expect_navigation():
        page.click("form.yw-filter button:has-text('筛选')")
    auditor = User.objects.get(username="auditor")
    refused = AuditEntry.objects.visible_to(auditor).filter(allowed=False, action__icontains="accounts.login").count()
    assert refused >= 1
    expect(page.locator("#yw-total")).to_have_text(str(refused))
    expect(page.locator("table tbody")).to_contain_text("wlne_grid1")
    results = set(page.locator("table tbody tr td:nth-child(8)").all_inner_texts())
    assert results == {"拒绝"}, results
