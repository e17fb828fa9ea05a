"""The working-day calendar page: staff enter next year's holidays and make-up working days (by
hand or from a CSV file), the page says which years are covered and warns about next year, and
bad input gets a clear message and changes nothing."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from marketplace import workdays
from marketplace.audit import AuditLog
from marketplace.workdays import WorkdayOverride
from tests.conftest import Auth, csrf_token
from tests.staff.test_dashboards import read_csv

EN = {"Accept-Language": "en"}


def this_year() -> int:
    return datetime.now(ZoneInfo("Asia/Shanghai")).year


@pytest.fixture
def next_year(app):
    year = this_year() + 1
    with app.app_context():
        if workdays.package_knows(year):
            pytest.skip(f"the calendar package already knows {year}")
    return year


def signed_in(app, role):
    client = app.test_client()
    Auth(client).login_as(role)
    return client


def post(client, path, data=None, **extra):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/staff/calendar")}, headers=EN, **extra)


def overrides(app) -> dict:
    with app.app_context():
        return {o.day: (o.is_workday, o.note) for o in WorkdayOverride.select()}


def test_next_year_is_flagged_until_staff_enter_it(app, next_year):
    client = signed_in(app, "community_admin")
    page = client.get("/staff/calendar", headers=EN).get_data(as_text=True)
    assert f"The holidays of {next_year} are not entered yet" in page
    assert "Not entered: weekends only" in page
    assert "Official calendar built in" in page  # this year

    response = post(client, f"/staff/calendar/days?year={next_year}",
                    {"first": f"{next_year}-01-01", "last": f"{next_year}-01-03", "kind": "holiday", "note": "元旦"})
    assert response.status_code == 302
    assert overrides(app) == {date(next_year, 1, day): (False, "元旦") for day in (1, 2, 3)}
    post(client, "/staff/calendar/days", {"first": f"{next_year}-02-20", "kind": "workday", "note": "春节调休上班"})

    page = client.get(f"/staff/calendar?year={next_year}", headers=EN).get_data(as_text=True)
    assert f"The holidays of {next_year} are not entered yet" not in page
    assert "Entered by staff" in page and "春节调休上班" in page
    with app.app_context():
        assert not workdays.is_workday(date(next_year, 1, 1))
        assert workdays.is_workday(date(next_year, 2, 20))  # a Saturday worked
        assert AuditLog.select().where(AuditLog.action == "workdays.days.set").count() == 2
    # The queue and the dashboard stop warning too.
    assert f"The holidays of {next_year}" not in client.get("/staff/", headers=EN).get_data(as_text=True)


def test_entered_holidays_move_the_deadlines_of_new_requests(app, next_year):
    from datetime import timedelta

    with app.test_request_context():
        start = datetime(next_year, 1, 29, 2, 0)  # a Friday morning in Beijing, as naive UTC
        before = workdays.add_working_days(start, 5)
    client = signed_in(app, "street_officer")
    post(client, "/staff/calendar/days", {"first": f"{next_year}-02-01", "last": f"{next_year}-02-05", "kind": "holiday"})
    with app.test_request_context():
        after = workdays.add_working_days(start, 5)
    assert after - before == timedelta(days=7)  # a whole working week off


@pytest.mark.parametrize("form, message", [
    ({"first": "2027-02-30", "kind": "holiday"}, "“2027-02-30” is not a date"),
    ({"first": "", "kind": "holiday"}, "Please enter the first day"),
    ({"first": "next monday", "kind": "holiday"}, "is not a date"),
    ({"first": "2027-01-05", "last": "2027-01-01", "kind": "holiday"}, "The last day is before the first day"),
    ({"first": "2027-01-01", "last": "2027-03-01", "kind": "holiday"}, "at most 31 days"),
    ({"first": "2027-01-01", "kind": "sometimes"}, "Please choose a holiday or a make-up working day"),
    ({"first": "1999-01-01", "kind": "holiday"}, "too far from today"),
    ({"first": "2027-01-01", "kind": "holiday", "note": "x" * 101}, "under 100 characters"),
])
def test_bad_days_get_a_clear_message_and_change_nothing(app, form, message):
    client = signed_in(app, "community_admin")
    before = overrides(app)
    response = post(client, "/staff/calendar/days", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert overrides(app) == before


CSV_GOOD = "日期,类型,备注\r\n2027-01-01,休,元旦\r\n2027/2/6,班,春节调休上班\r\n2027年2月8日,holiday,春节\r\n20270209,假,春节\r\n"


def test_a_csv_from_excel_is_imported_with_its_chinese_notes(app, next_year):
    client = signed_in(app, "community_admin")
    data = ("\ufeff" + CSV_GOOD.replace("2027", str(next_year))).encode("utf-8")
    response = post(client, "/staff/calendar/import", {"file": (io.BytesIO(data), "2027.csv")},
                    content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert overrides(app) == {
        date(next_year, 1, 1): (False, "元旦"),
        date(next_year, 2, 6): (True, "春节调休上班"),
        date(next_year, 2, 8): (False, "春节"),
        date(next_year, 2, 9): (False, "春节"),
    }
    page = client.get(response.location, headers=EN).get_data(as_text=True)
    assert "Imported 4 day(s)" in page


def test_a_csv_saved_by_chinese_excel_in_gb18030_is_read_too(app):
    client = signed_in(app, "community_admin")
    data = CSV_GOOD.encode("gb18030")
    response = post(client, "/staff/calendar/import", {"file": (io.BytesIO(data), "2027.csv")},
                    content_type="multipart/form-data")
    assert response.status_code == 302
    assert overrides(app)[date(2027, 2, 6)] == (True, "春节调休上班")


def test_pasted_lines_replace_earlier_entries(app):
    client = signed_in(app, "street_officer")
    post(client, "/staff/calendar/days", {"first": "2027-10-01", "kind": "workday", "note": "typo"})
    response = post(client, "/staff/calendar/import", {"text": "2027-10-01,holiday,国庆节\n2027-10-02,holiday,国庆节"})
    assert response.status_code == 302
    assert overrides(app) == {date(2027, 10, 1): (False, "国庆节"), date(2027, 10, 2): (False, "国庆节")}
    assert "1 of them replaced an earlier entry" in client.get("/staff/calendar", headers=EN).get_data(as_text=True)


def test_a_file_with_bad_lines_imports_nothing_and_names_each_line(app):
    client = signed_in(app, "community_admin")
    text = "2027-01-01,holiday,元旦\n2027-02-30,holiday,\n2027-03-01,maybe,\n2027-04-05,holiday,清明\n2027-04-05,workday,\n"
    response = post(client, "/staff/calendar/import", {"text": text})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "Line 2: “2027-02-30” is not a date" in page
    assert "Line 3" in page and "should say holiday or workday" in page
    assert "Line 5: 2027-04-05 is listed both as a holiday and as a working day" in page
    assert "Line 1" not in page and "Line 4" not in page
    assert overrides(app) == {}

    for bad, message in [("", "There are no days in it"), ("日期,类型\n", "There are no days in it"),
                         ("x" * 200_000, "too large")]:
        response = post(client, "/staff/calendar/import", {"file": (io.BytesIO(bad.encode()), "a.csv")},
                        content_type="multipart/form-data")
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert overrides(app) == {}


def test_removing_a_day_gives_it_back_to_the_official_calendar(app):
    client = signed_in(app, "community_admin")
    post(client, "/staff/calendar/days", {"first": "2026-10-01", "kind": "workday", "note": "wrong"})
    with app.app_context():
        entry = WorkdayOverride.get(WorkdayOverride.day == date(2026, 10, 1))
        assert workdays.is_workday(date(2026, 10, 1))
    response = post(client, f"/staff/calendar/days/{entry.id}/remove")
    assert response.status_code == 302
    with app.app_context():
        assert not workdays.is_workday(date(2026, 10, 1))  # National Day, from the package again
        assert AuditLog.select().where(AuditLog.action == "workdays.day.removed").count() == 1
    assert post(client, f"/staff/calendar/days/{entry.id}/remove").status_code == 404


def test_building_heads_see_the_calendar_but_cannot_change_it(app):
    client = signed_in(app, "building_head")
    page = client.get("/staff/calendar", headers=EN).get_data(as_text=True)
    assert "Years" in page and "Save these days" not in page and "/staff/calendar/import" not in page
    assert post(client, "/staff/calendar/days", {"first": "2027-01-01", "kind": "holiday"}).status_code == 403
    assert post(client, "/staff/calendar/import", {"text": "2027-01-01,holiday"}).status_code == 403
    assert overrides(app) == {}
    assert signed_in(app, "resident").get("/staff/calendar").status_code == 403
    assert client.get("/staff/calendar?year=1990").status_code == 404


def test_a_years_csv_lists_its_holidays_and_make_up_days_and_imports_back(app):
    client = signed_in(app, "community_admin")
    rows = read_csv(client.get("/staff/calendar/2026.csv", headers=EN))
    assert rows[0][:3] == ["Date", "Kind", "Note"]
    days = {r[0]: r[1] for r in rows[1:]}
    assert days["2026-10-01"] == "holiday" and days["2026-10-10"] == "workday"  # National Day, and its make-up Saturday
    assert "2026-10-03" not in days  # a Saturday off is no exception
    notes = {r[0]: r[2] for r in rows[1:]}
    assert notes["2026-10-01"] == "National Day"
    # Downloaded, edited in Excel and imported again: taken as it is, column names and all.
    body = client.get("/staff/calendar/2026.csv").data
    response = post(client, "/staff/calendar/import", {"file": (io.BytesIO(body), "2026.csv")},
                    content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        assert WorkdayOverride.select().count() == len(rows) - 1
        assert not workdays.is_workday(date(2026, 10, 1)) and workdays.is_workday(date(2026, 10, 10))
