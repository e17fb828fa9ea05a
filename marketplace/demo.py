"""The demo community: Beiyuan Street's map, the menu, partners and one account for every role.

Loading is idempotent: what exists is kept as it is (passwords included), what is missing is added.
"""

from functools import lru_cache

from marketplace.db import db
from marketplace.events.demo import load_demo_events
from marketplace.ledger import services as ledger
from marketplace.menu.models import Category
from marketplace.menu.services import load_menu
from marketplace.partners.models import PartnerEnterprise
from marketplace.places.models import Building, Community, Grid, Household
from marketplace.places.services import load_map
from marketplace.proposals.demo import load_demo_proposals
from marketplace.service_requests.models import Department
from marketplace.users import passwords
from marketplace.users.models import ResidencyApplication, RoleGrant, User, VolunteerApplication, VolunteerSkill

DEMO_PASSWORD = "beiyuan-demo-2026"

PARTNERS = [
    ("北苑五金维修店", ("家电、水电和门锁维修", "Appliance, plumbing and lock repairs"), "010-84801234", "北苑路12号"),
    ("洁家家政服务公司", ("家庭保洁与深度清洁", "Household and deep cleaning"), "010-84805678", "北苑路36号"),
    ("邻里生鲜便利店", ("生鲜与日用品", "Groceries and daily goods"), "010-84809012", "北苑家园底商3号"),
]

# The street's functional departments (code, Chinese, English); a street officer's grant names one.
DEPARTMENTS = [
    ("minzheng", "民政科", "Civil Affairs Section"),
    ("chengguan", "城管科", "Urban Management Section"),
    ("zongzhi", "综治办", "Public Order Office"),
    ("shehui_shiwu", "社会事务科", "Social Affairs Section"),
    ("shequ_jianshe", "社区建设科", "Community Building Section"),
]

# (phone, name, role, scope kind, scope code)
PEOPLE = [
    ("13800000001", "系统管理员", "admin", None, None),
    ("13800000002", "刘主任", "community_admin", "community", "beiyuan_jiayuan"),
    ("13800000003", "赵网格员", "grid_admin", "grid", "bj_g1"),
    ("13800000004", "孙楼长", "building_head", "building", "bj_b1"),
    ("13800000005", "周科员", "street_officer", "department", "民政科"),
    ("13900000001", "张阿姨", "resident", "household", ("bj_b1", 0)),
    ("13900000002", "李大爷", "resident", "household", ("bj_b3", 0)),
    ("13900000003", "王小明", "volunteer", "household", ("bj_b2", 0)),
    ("13700000001", "钱师傅", "partner_staff", "partner", "北苑五金维修店"),
    ("13700000002", "吴阿姨", "partner_staff", "partner", "洁家家政服务公司"),
    ("13900000004", "陈奶奶", "pending_resident", "household", ("bj_b1", 1)),
]


def _household(building_code: str, index: int) -> Household:
    building = Building.get(Building.code == building_code)
    return building.households.order_by(Household.id)[index]


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    # Every demo account shares the one published demo password, so one argon2 hash (salt
    # included) serves them all: hashing is deliberately slow, and the test suite loads the demo
    # for every test.
    return passwords.hash_password(DEMO_PASSWORD)


def _user(phone: str, name: str) -> User:
    user = User.get_or_none(User.phone == phone)
    if user is None:
        user = User.create(phone=phone, display_name=name, password_hash=_demo_password_hash())
    ledger.user_account(user)
    return user


def _grant(user: User, role: str, **scope) -> None:
    query = RoleGrant.select().where(RoleGrant.user == user.id, RoleGrant.role == role)
    if not query.exists():
        RoleGrant.create(user=user, role=role, **scope)


def _residency(user: User, household: Household, status: str) -> None:
    if not ResidencyApplication.select().where(ResidencyApplication.user == user.id).exists():
        ResidencyApplication.create(user=user, household=household, status=status)
    if status == "verified":
        _grant(user, "resident", household=household)


def demo_language(language: str | None = None) -> str:
    """The demo's words are in one language, as real data would be: the one asked for, else the
    site's default (DEFAULT_LANGUAGE)."""
    from flask import current_app

    return "en" if (language or current_app.config["BABEL_DEFAULT_LOCALE"]) == "en" else "zh_Hans"


def in_language(words: tuple[str, str], language: str) -> str:
    """(Chinese, English) -> the one for `language`."""
    return words[1] if language == "en" else words[0]


def load_demo(language: str | None = None) -> list[tuple[str, str, str]]:
    language = demo_language(language)
    load_map()
    load_menu()
    with db.atomic():
        community = Community.get(Community.code == "beiyuan_jiayuan")
        for name, business, phone, address in PARTNERS:
            partner, _created = PartnerEnterprise.get_or_create(
                name=name,
                defaults={"community": community, "business": in_language(business, language), "contact_phone": phone, "address": address},
            )
            ledger.partner_account(partner)
        for code, name_zh, name_en in DEPARTMENTS:
            Department.insert(code=code, name_zh=name_zh, name_en=name_en).on_conflict_ignore().execute()
        logins = []
        for phone, name, role, kind, code in PEOPLE:
            user = _user(phone, name)
            logins.append((phone, name, role))
            if kind == "household":
                household = _household(*code)
                _residency(user, household, "pending" if role == "pending_resident" else "verified")
                if role == "volunteer":
                    if not VolunteerApplication.select().where(VolunteerApplication.user == user.id).exists():
                        VolunteerApplication.create(user=user, community=community, availability=in_language(("周末全天", "weekends"), language), status="verified")
                    for category in Category.select().where(Category.code.in_(["digital_help", "elderly_care", "errands"])):
                        VolunteerSkill.insert(user=user, category=category).on_conflict_ignore().execute()
                    _grant(user, "volunteer", community=community)
            elif kind == "community":
                _grant(user, role, community=Community.get(Community.code == code))
            elif kind == "grid":
                _grant(user, role, grid=Grid.get(Grid.code == code))
            elif kind == "building":
                _grant(user, role, building=Building.get(Building.code == code))
            elif kind == "department":
                _grant(user, role, department=code)
            elif kind == "partner":
                _grant(user, role, partner=PartnerEnterprise.get(PartnerEnterprise.name == code))
            else:
                _grant(user, role)
    _load_points_and_offers(community, language)
    load_demo_events(language)
    load_demo_proposals(in_language, language)
    return logins


# Points members earned before the demo starts, and what the shops offer for them.
# Each award has a fixed idempotency key, so loading the demo again moves nothing.
DEMO_AWARDS = [
    ("13900000003", 180, "earn_event", ("志愿巡逻 12 小时", "12 h of patrols")),
    ("13900000001", 60, "earn_event", ("亲子跳蚤市场帮忙", "helped at the flea market")),
    ("13900000002", 40, "earn_event", ("反诈讲座志愿者", "anti-fraud lecture volunteer")),
]

DEMO_OFFERS = [
    # shop (partner name or None for the flea market), title, category, price, stock, per-person limit
    ("北苑五金维修店", ("免费磨刀一次", "One free knife sharpening"), "services", 20, 40, 2),
    ("北苑五金维修店", ("水龙头更换工时费全免", "Tap replacement labour free"), "services", 50, 10, 1),
    ("洁家家政服务公司", ("油烟机清洗八折", "20% off a range hood clean"), "services", 80, 20, 1),
    ("邻里生鲜便利店", ("新鲜鸡蛋一盒", "A box of fresh eggs"), "food", 30, 50, 2),
    ("邻里生鲜便利店", ("环保购物袋", "Reusable shopping bag"), "daily_goods", 10, 100, None),
    (None, ("儿童绘本（二手，九成新）", "Picture books, gently used"), "culture", 15, 5, 1),
]


def _load_points_and_offers(community: Community, language: str) -> None:
    from datetime import date

    from marketplace.shop.models import Offer

    admin = User.get(User.phone == PEOPLE[0][0])
    for phone, amount, kind, memo in DEMO_AWARDS:
        user = User.get(User.phone == phone)
        ledger.award(admin, user, amount, kind, "demo", f"demo:award:{phone}", memo=in_language(memo, language))
    for shop, title, category, price, stock, limit in DEMO_OFFERS:
        title = in_language(title, language)
        partner = PartnerEnterprise.get(PartnerEnterprise.name == shop) if shop else None
        if Offer.select().where(Offer.title == title).exists():
            continue
        Offer.create(
            community=community, partner=partner, title=title, category=category, price=price, stock=stock,
            per_person_limit=limit, valid_from=date(2026, 1, 1), valid_until=date(2027, 12, 31), status="active",
            created_by=admin, description="",
        )
