"""Demo logins (see ``demo.accounts``): created through the accounts actions, idempotently."""
from yiwang.accounts import actions as account_actions
from yiwang.accounts.models import User
from yiwang.areas.models import Region

from ..accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from ..registry import demo_step


@demo_step(90)
def load_accounts(ctx):
    for a in DEMO_ACCOUNTS:
        user = User.objects.filter(username=a.username).first()
        if user is None:
            user = account_actions.create_user(username=a.username, password=DEMO_PASSWORD,
                                               display_name=a.display_name, by=None, is_demo=True)
        region = Region.objects.get(code=a.region_code)
        account_actions.assign_role(user, role=a.role, region=region, module=a.module, by=None)
