"""The demo logins: who they are, their role and region. Printed by ``make run`` and the login page.

The shared password exists only in the demo (YIWANG_DEMO=1); production has no default passwords.
"""
from dataclasses import dataclass

DEMO_PASSWORD = "Yiwang@2023"
TOWN_CODE = "150627105"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    region_code: str
    region_name: str
    role_label: str
    module: str = ""


DEMO_ACCOUNTS = [
    DemoAccount("town_admin", "镇管理员（演示）", "town_staff", TOWN_CODE, "红庆河镇", "镇工作人员（全部模块）", "all"),
    DemoAccount("town_leader", "镇领导（演示）", "town_leader", TOWN_CODE, "红庆河镇", "镇领导"),
    DemoAccount("wlne_secretary", "乌兰淖尔村书记（演示）", "village_cadre", "150627105215", "乌兰淖尔村", "村两委干部（书记）"),
    DemoAccount("nlxl_secretary", "纳林希里村书记（演示）", "village_cadre", "150627105214", "纳林希里村", "村两委干部（书记）"),
    DemoAccount("wlne_grid1", "乌兰淖尔网格员（演示）", "grid_worker", "15062710521501", "乌兰淖尔村第1网格", "网格员"),
    DemoAccount("wlne_resident", "乌兰淖尔村民（演示）", "resident", "150627105215", "乌兰淖尔村", "居民"),
    DemoAccount("banner_viewer", "旗级领导（演示）", "banner_viewer", "150627", "伊金霍洛旗", "旗级领导（查看）"),
    DemoAccount("auditor", "审计员（演示）", "auditor", TOWN_CODE, "红庆河镇", "审计员"),
    DemoAccount("sysadmin", "系统管理员（演示）", "sysadmin", TOWN_CODE, "红庆河镇", "系统管理员"),
    DemoAccount("secadmin", "安全管理员（演示）", "secadmin", TOWN_CODE, "红庆河镇", "安全管理员"),
]
