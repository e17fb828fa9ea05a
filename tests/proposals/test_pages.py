"""The matters' pages as residents, staff and the public read them: the public page shows the
figures and never a name; a form sent wrong says so and changes nothing."""

from marketplace.proposals.demo import DONE_TITLE, OPEN_TITLE
from marketplace.proposals.models import Proposal
from tests.conftest import in_app

EN = {"Accept-Language": "en"}


def _demo(app, titles):
    return in_app(app, lambda: Proposal.get(Proposal.title.in_(titles)))


def test_the_public_page_shows_the_figures_and_no_names(app, client):
    done = _demo(app, DONE_TITLE)
    page = client.get(f"/board/proposals/{done.id}", headers=EN).get_data(as_text=True)
    assert client.get(f"/board/proposals/{done.id}", headers=EN).status_code == 200
    for figure in ("Concerned", "Took part", "Result: passed", "on time", "average 5.0 of 5"):
        assert figure in page, figure
    for name in ("张阿姨", "孙楼长", "13900000001", "1-101"):
        assert name not in page, name
    assert done.title in client.get("/board/proposals", headers=EN).get_data(as_text=True)


def test_a_meeting_form_sent_without_times_changes_nothing(app, client, auth):
    proposal = _demo(app, OPEN_TITLE)
    auth.login_as("community_admin")
    response = auth.post(f"/proposals/{proposal.id}/meeting", {"place": "活动室"}, token_from=f"/proposals/{proposal.id}",
                         headers=EN)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Please give the start date and time." in page
    assert _demo(app, OPEN_TITLE).meeting_id is None
