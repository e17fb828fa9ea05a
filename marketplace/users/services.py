"""The users domain's services, gathered from the modules that hold them, so that views, the API
and the commands call `users.services.x` whatever the seam behind it:

- `accounts`: signing up and in, sessions, passwords, phone numbers, languages;
- `applications`: residency and volunteer applications that staff answer;
- `roles`: roles granted in a scope, and the people staff manage.

Partner staff invitations live with the partners (`partners.invitations`).
"""

from marketplace.users.accounts import (  # noqa: F401
    PHONE_PATTERN,
    SESSION_MAX_AGE,
    SESSION_TOUCH_EVERY,
    authenticate,
    change_password,
    end_all_sessions,
    end_session,
    load_session,
    normalize_phone,
    set_active,
    set_locale,
    sign_up,
    start_session,
)
from marketplace.users.applications import (  # noqa: F401
    apply_as_volunteer,
    apply_for_residency,
    approve_volunteer,
    current_residency,
    current_volunteer_application,
    reject_residency,
    reject_volunteer,
    verify_residency,
)
from marketplace.users.recovery import (  # noqa: F401
    confirm_phone_change,
    confirm_sign_up,
    issue_reset_code,
    may_issue_reset_code,
    request_phone_change_code,
    request_reset_code,
    request_signup_code,
    reset_with_code,
)
from marketplace.users.roles import (  # noqa: F401
    ADMIN_GRANTS,
    COMMUNITY_GRANTS,
    COMMUNITY_REVOKES,
    PEOPLE_PAGE_SIZE,
    ROLE_LABELS,
    SCOPE_OF_ROLE,
    find_community,
    grant_role,
    grant_role_in_scope,
    grant_scope,
    may_revoke,
    may_set_active,
    people_in_scope,
    person_in_scope,
    reveal_person,
    revoke_role,
    role_label,
    roles_by_person,
    roles_grantable_by,
    search_people,
    set_account_active,
)
