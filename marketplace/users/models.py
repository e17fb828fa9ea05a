"""People: accounts, their login sessions and API tokens, role grants, and their applications to staff."""

import peewee as pw

from marketplace.db import BaseModel
from marketplace.menu.models import Category
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.timeutil import utcnow

ROLES = (
    "resident",
    "volunteer",
    "partner_staff",
    "building_head",
    "grid_admin",
    "community_admin",
    "street_officer",
    "admin",
)
STAFF_ROLES = ("building_head", "grid_admin", "community_admin", "street_officer", "admin")
APPLICATION_STATES = ("pending", "verified", "rejected")


def mask_phone(phone: str) -> str:
    """138****1234: what everyone but the person, their helper and staff in scope sees."""
    return f"{phone[:3]}****{phone[-4:]}"


class User(BaseModel):
    phone = pw.CharField(max_length=11, unique=True)
    display_name = pw.CharField(max_length=50)
    password_hash = pw.CharField(max_length=255)
    locale = pw.CharField(max_length=10, null=True)
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=utcnow)

    # Flask-Login's interface. The session carries a per-login key rather than the bare user
    # id (see LoginSession), so the flags below are all Flask-Login needs from the model.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # Set by the login service for the current request's session.
        return self._session_id

    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class LoginSession(BaseModel):
    """One signed-in browser. Deleting the row ends that session on the server, so a copied
    cookie stops working after logout, a password change or deactivation."""

    user = pw.ForeignKeyField(User, backref="login_sessions", on_delete="CASCADE")
    key_hash = pw.CharField(max_length=64, unique=True)
    created_at = pw.DateTimeField(default=utcnow)
    last_seen_at = pw.DateTimeField(default=utcnow)
    user_agent = pw.CharField(max_length=200, default="")
    remembered = pw.BooleanField(default=False)  # "keep me signed in": no idle limit, 30 days at most


class ApiToken(BaseModel):
    """A personal API token a person made on their profile for a phone app or a mini-program.

    Only the SHA-256 of the token is kept: a token is 256 random bits, so a slow hash adds
    nothing, and a fast one lets every API request be checked with one indexed lookup. The
    first characters (`prefix`) are kept in clear so the person can tell their tokens apart."""

    user = pw.ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    name = pw.CharField(max_length=60)
    token_hash = pw.CharField(max_length=64, unique=True)
    prefix = pw.CharField(max_length=12)
    scopes = pw.CharField(max_length=200, constraints=[pw.SQL("CHECK (scopes <> '')")])  # space-separated: "read jobs"
    created_at = pw.DateTimeField(default=utcnow)
    last_used_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class RoleGrant(BaseModel):
    """A role in a scope. Which scope column is set depends on the role:
    resident -> household, building_head -> building, grid_admin -> grid,
    community_admin and volunteer -> community, partner_staff -> partner,
    street_officer -> department, admin -> none (everything)."""

    user = pw.ForeignKeyField(User, backref="grants", on_delete="CASCADE")
    role = pw.CharField(max_length=20, constraints=[pw.Check("role IN ({})".format(", ".join(f"'{r}'" for r in ROLES)))])
    household = pw.ForeignKeyField(Household, null=True, on_delete="CASCADE")
    building = pw.ForeignKeyField(Building, null=True, on_delete="CASCADE")
    grid = pw.ForeignKeyField(Grid, null=True, on_delete="CASCADE")
    community = pw.ForeignKeyField(Community, null=True, on_delete="CASCADE")
    partner = pw.ForeignKeyField(PartnerEnterprise, null=True, on_delete="CASCADE")
    department = pw.CharField(max_length=100, null=True)
    granted_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = pw.DateTimeField(default=utcnow)


class ResidencyApplication(BaseModel):
    """A resident's claim to live in a household, waiting for staff in scope to verify it."""

    user = pw.ForeignKeyField(User, backref="residency_applications", on_delete="CASCADE")
    household = pw.ForeignKeyField(Household, backref="applications", on_delete="CASCADE")
    status = pw.CharField(max_length=10, default="pending", index=True)
    reason = pw.CharField(max_length=200, default="")  # why it was rejected, shown to the resident
    created_at = pw.DateTimeField(default=utcnow)
    decided_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    decided_at = pw.DateTimeField(null=True)


class VolunteerApplication(BaseModel):
    user = pw.ForeignKeyField(User, backref="volunteer_applications", on_delete="CASCADE")
    community = pw.ForeignKeyField(Community, on_delete="CASCADE")
    availability = pw.CharField(max_length=200)
    status = pw.CharField(max_length=10, default="pending", index=True)
    reason = pw.CharField(max_length=200, default="")
    created_at = pw.DateTimeField(default=utcnow)
    decided_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    decided_at = pw.DateTimeField(null=True)


class VolunteerSkill(BaseModel):
    """The menu categories a volunteer offers to help with (the job board filters by them)."""

    user = pw.ForeignKeyField(User, backref="skills", on_delete="CASCADE")
    category = pw.ForeignKeyField(Category, on_delete="CASCADE")

    class Meta:
        indexes = ((("user", "category"), True),)


class PartnerInvite(BaseModel):
    """A one-time link with which a person joins a partner enterprise as its staff."""

    partner = pw.ForeignKeyField(PartnerEnterprise, backref="invites", on_delete="CASCADE")
    token_hash = pw.CharField(max_length=64, unique=True)  # sha256 of the token in the link
    note = pw.CharField(max_length=100, default="")  # whom it was meant for
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    used_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    used_at = pw.DateTimeField(null=True)
    revoked = pw.BooleanField(default=False)


CODE_PURPOSES = ("reset_sms", "reset_staff", "signup", "phone")


class OneTimeCode(BaseModel):
    """A one-time code: a password reset sent by SMS or handed over in person by staff, or the
    proof of a number at sign-up or a phone change. Only an HMAC of the code is kept; it is used
    once, expires, and burns after a few wrong tries. `user` is empty for a sign-up (no account
    yet); `issued_by` is the staff member who handed it over (empty: the operator's command)."""

    purpose = pw.CharField(max_length=12, constraints=[
        pw.SQL("CHECK (purpose IN ('reset_sms', 'reset_staff', 'signup', 'phone'))")])
    phone = pw.CharField(max_length=20, index=True)
    user = pw.ForeignKeyField(User, null=True, backref="one_time_codes", on_delete="CASCADE")
    code_hash = pw.CharField(max_length=64)
    issued_by = pw.ForeignKeyField(User, null=True, backref="codes_issued", on_delete="SET NULL")
    attempts = pw.IntegerField(default=0, constraints=[pw.SQL("CHECK (attempts >= 0)")])
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    used_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "one_time_code"
