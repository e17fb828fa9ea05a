"""Every model of the application, in dependency order: what migrations must produce."""

from marketplace.audit import AuditHead, AuditLog
from marketplace.care.models import CarePair, CareVisit, KeyGroupMember
from marketplace.events.models import Attendance, Badge, Event, Scan, Signup
from marketplace.figures.snapshots import FiguresSnapshot
from marketplace.idempotency import IdempotencyRecord
from marketplace.ledger.models import Account, Adjustment, LedgerCheckpoint, LedgerHead, Transfer
from marketplace.menu.models import Category, ServiceItem
from marketplace.notifications.models import CallTask, Delivery, MessagePreference, Notification
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.proposals.models import (
    MeetingPay,
    Proposal,
    ProposalEvaluation,
    ProposalSpending,
    ProposalSupport,
    ProposalTask,
    ProposalUpdate,
    ProposalVote,
)
from marketplace.proxy.models import FamilyLink, PhonelessMember, ProxyAct
from marketplace.public.models import FundUse
from marketplace.service_requests.models import Clock, Department, HandOff, Reopening, RequestEvent, ServiceRequest
from marketplace.shop.models import Offer, Voucher
from marketplace.users.models import (
    ApiToken,
    LoginSession,
    OneTimeCode,
    PartnerInvite,
    ResidencyApplication,
    RoleGrant,
    User,
    VolunteerApplication,
    VolunteerSkill,
)
from marketplace.workdays import WorkdayOverride

ALL_MODELS = [
    Community,
    Grid,
    Building,
    Household,
    Category,
    ServiceItem,
    PartnerEnterprise,
    User,
    LoginSession,
    RoleGrant,
    ResidencyApplication,
    VolunteerApplication,
    VolunteerSkill,
    PartnerInvite,
    AuditLog,
    AuditHead,
    Account,
    LedgerHead,
    Transfer,
    Adjustment,
    Offer,
    Voucher,
    WorkdayOverride,
    ServiceRequest,
    RequestEvent,
    Event,
    Signup,
    Attendance,
    Scan,
    Badge,
    FundUse,
    ApiToken,
    IdempotencyRecord,
    Notification,
    FiguresSnapshot,
    LedgerCheckpoint,
    Delivery,
    MessagePreference,
    CallTask,
    Department,
    HandOff,
    Clock,
    Reopening,
    OneTimeCode,
    ProxyAct,
    PhonelessMember,
    FamilyLink,
    Proposal,
    ProposalSupport,
    ProposalVote,
    ProposalTask,
    ProposalSpending,
    ProposalUpdate,
    ProposalEvaluation,
    MeetingPay,
    KeyGroupMember,
    CarePair,
    CareVisit,
]
