"""The events domain's services, gathered from the modules that hold them, so that views, the API,
the CLI and periodic jobs call `events.services.x` whatever the seam behind it:

- `organising`: who may organise which event; making, changing, publishing, cancelling;
- `signups`: places and the waiting list;
- `door`: the kiosk, the poster and the door code; hours and points; closing the door;
- `staff_door`: badges scanned by staff (also offline) and check-in by hand;
- `records`: volunteers' hours, stars and rosters;
- `corrections`: volunteers' requests to correct their hours, and the staff's answers;
- `honour`: credit hours (from the door) and honour hours (by hand), and the second approval;
- `timing`: when the door is open, and the times people read.
"""

from marketplace.events.corrections import (  # noqa: F401
    approve_hour_correction,
    correction_photo,
    corrections_for_staff,
    decline_hour_correction,
    my_hour_corrections,
    request_hour_correction,
)
from marketplace.events.door import (  # noqa: F401
    KIOSK_SWITCH_TO_OUT,
    KioskCode,
    ScanResult,
    check_with_code,
    check_with_kiosk,
    check_with_poster,
    close_finished,
    is_volunteer,
    kiosk_code,
    open_kiosk_link,
    open_poster_link,
    read_kiosk,
    read_poster,
)
from marketplace.events.honour import (  # noqa: F401
    approve_honour_hours,
    honour_hours_waiting,
    is_honour,
)
from marketplace.events.organising import (  # noqa: F401
    MAX_CAPACITY,
    MAX_EVENT_HOURS,
    MAX_POINTS,
    cancel_event,
    communities_for,
    create_event,
    get_event,
    get_managed,
    managed_events,
    may_manage,
    publish_event,
    reissue_poster,
    upcoming_events,
    update_event,
)
from marketplace.events.records import (  # noqa: F401
    VolunteerRecord,
    may_replace_badge,
    may_see_volunteer,
    roster,
    roster_for,
    star_level,
    volunteer_for_staff,
    volunteer_record,
)
from marketplace.events.signups import (  # noqa: F401
    cancel_signup,
    places_for,
    sign_up,
    waitlist_position,
)
from marketplace.events.staff_door import (  # noqa: F401
    MAX_BATCH,
    NONCE,
    badge_holder,
    badge_of,
    badge_token_of,
    check_for,
    check_in_by_hand,
    check_out_by_hand,
    check_with_badge,
    record_scans,
    replace_badge,
)
from marketplace.events.timing import (  # noqa: F401
    DoorWindow,
    _t,
    clipped_minutes,
    door_closed_before,
    door_window,
    points_for,
)
