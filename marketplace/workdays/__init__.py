"""Working days: which days count (`days`: the official calendar and the days staff entered), the
calendar staff keep for the years the package does not know (`calendar`) and its pages (`views`).

Deadlines everywhere count with `workdays.add_working_days(...)`, so the rule's names are offered here.
"""

from marketplace.workdays.days import (
    WorkdayOverride,
    add_working_days,
    coverage,
    due_day,
    is_workday,
    last_working_day,
    local_date,
    local_zone,
    overrides_between,
    package_knows,
    working_days_between,
)

__all__ = [
    "WorkdayOverride",
    "add_working_days",
    "coverage",
    "due_day",
    "is_workday",
    "last_working_day",
    "local_date",
    "local_zone",
    "overrides_between",
    "package_knows",
    "working_days_between",
]
