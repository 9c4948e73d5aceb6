"""Synthetic answers to the terminal's online services, the same every time for the same input.

The reference platform has no social-security, medical-insurance or housing-fund back end, so it
makes records up. A record is drawn from SHAKE-256 over a fixed domain tag, the service and the
identifier: a resident sees the same record on every query and on every platform, so tests, rigs
and the README can quote one. Nothing is kept per resident; the ID number is used for the draw and
dropped. A keyed hash (HMAC with a per-platform secret) would only matter if a digest of an ID
number were stored or shown, and none is: check-ins keep the appointment code only, and every
answer's reference is random. Dates in the answers follow *today* (a contribution is for last
month), so a record is the same all through one month.

Code formats: contracts/codes.py.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

from contracts.codes import (
    parse_application_code,
    parse_appointment_code,
)
from contracts.wire import AnswerField, AnswerStatus, ServiceAnswer, ServiceQuery

if TYPE_CHECKING:
    from central.store import CheckIn

T = TypeVar("T")
Text = tuple[str, str]  # (zh_CN, en)
Row = tuple[Text, str | Text]  # (label, value): a plain value reads the same in both languages
Outcome = tuple[AnswerStatus, str | None, list[Row]]

_DOMAIN = b"kiosk-central/services/v1\x00"

RESULT: Text = ("结果", "Result")
NO_RECORD: Text = ("未查询到记录", "No record found")


class CheckinBook(Protocol):
    """Where check-ins are kept (CentralStore): the first one per code wins."""

    def check_in(self, code: str, *, day: str, counter: str, kiosk_id: str) -> CheckIn: ...


def answer(query: ServiceQuery, *, today: date, book: CheckinBook, kiosk_id: str) -> ServiceAnswer:
    """The answer to a validated query, its values in the query's language."""
    if query.service == "social_security":
        outcome = social_security(query.identifier.upper(), today)
    elif query.service == "medical_insurance":
        outcome = medical_insurance(query.identifier.upper(), today)
    elif query.service == "housing_fund":
        outcome = housing_fund(query.identifier.upper(), today)
    elif query.service == "application_progress":
        outcome = application_progress(query.identifier, today)
    else:
        outcome = appointment_checkin(query.identifier, today, book, kiosk_id)
    status, reason, rows = outcome
    pick = 0 if query.language == "zh_CN" else 1
    fields = [
        AnswerField(
            label_zh=label[0],
            label_en=label[1],
            value=value if isinstance(value, str) else value[pick],
        )
        for label, value in rows
    ]
    # Random, not derived from the identifier: a receipt's reference must not lead back to a person.
    reference = f"Q{today:%Y%m%d}-{secrets.token_hex(4).upper()}"
    return ServiceAnswer(status=status, reason=reason, fields=fields, reference=reference)


def registered_phone(id_number: str) -> str | None:
    """The mobile number on file for *id_number* in the synthetic back end (None for some: not
    everyone left one), where a request slip's answer goes by SMS. The number a department has
    on record, rather than one typed at a kiosk: a card alone must not send a resident's record
    to any phone. Drawn like the records, the same every time."""
    draws = Draws("registered_phone", id_number.upper())
    if age_on(id_number, date.today()) is None or draws.below(100) < 10:
        return None
    return f"1{draws.pick('3456789')}{draws.between(0, 999_999_999):09d}"


# -- drawing a synthetic record -----------------------------------------------------------------


class Draws:
    """Numbers drawn from one (service, identifier): the same pair gives the same numbers."""

    def __init__(self, service: str, identifier: str) -> None:
        seed = _DOMAIN + f"{service}\x00{identifier}".encode()
        self._stream = hashlib.shake_256(seed).digest(128)
        self._at = 0

    def below(self, n: int) -> int:
        chunk = self._stream[self._at : self._at + 4]
        self._at += 4
        return int.from_bytes(chunk, "big") % n  # bias below 1e-6 for the ranges used here

    def between(self, low: int, high: int) -> int:
        return low + self.below(high - low + 1)

    def pick(self, options: Sequence[T]) -> T:
        return options[self.below(len(options))]


def yuan(fen: int) -> str:
    """An amount for the wire: yuan with exactly two decimals, computed in integer fen."""
    return f"{fen // 100}.{fen % 100:02d}"


def month_of(day: date, months_back: int = 0) -> str:
    """The ISO month (YYYY-MM) *months_back* months before *day*'s."""
    index = day.year * 12 + day.month - 1 - months_back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def born_on(id_number: str) -> date | None:
    """The birth date inside an ID number (digits 7-14), None if they are no date."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def age_on(id_number: str, today: date) -> int | None:
    born = born_on(id_number)
    if born is None or born > today:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# -- record services ----------------------------------------------------------------------------

INSURED_ACTIVE: Text = ("正常参保", "Active")
INSURED_SUSPENDED: Text = ("暂停缴费", "Contributions suspended")
INSURED_RETIRED: Text = ("已退休", "Retired")
EMPLOYER_TYPES: tuple[Text, ...] = (
    ("企业", "Enterprise"),
    ("机关事业单位", "Public institution"),
    ("个体工商户", "Self-employed business"),
    ("灵活就业", "Flexible employment"),
)


def social_security(id_number: str, today: date) -> Outcome:
    draws = Draws("social_security", id_number)
    age = age_on(id_number, today)
    if age is None or age < 16 or draws.below(100) < 8:  # children have no record; some adults
        return "not_found", "no_record", [(RESULT, NO_RECORD)]
    born = born_on(id_number)
    if age >= 60 and born is not None:
        status, months = INSURED_RETIRED, draws.between(180, 480)
        last_month = month_of(date(born.year + 60, born.month, 1), 1)  # the month before 60
    else:
        suspended = draws.below(100) < 15
        status = INSURED_SUSPENDED if suspended else INSURED_ACTIVE
        months = draws.between(1, min(480, (age - 16) * 12 + 1))
        last_month = month_of(today, draws.between(2, 24) if suspended else 1)
    salary_fen = draws.between(3_000_00, 30_000_00)
    # The employee's share: 8 % pension, 2 % medical, 0.5 % unemployment.
    contribution = salary_fen * 105 // 1000
    return "ok", None, [
        (("参保状态", "Insured status"), status),
        (("累计缴费月数", "Contribution months"), str(months)),
        (("最近缴费月份", "Last contribution month"), last_month),
        (("最近缴费金额（元）", "Last contribution (CNY)"), yuan(contribution)),
        (("参保单位类型", "Employer type"), draws.pick(EMPLOYER_TYPES)),
    ]  # fmt: skip


MEDICAL_EMPLOYEE: Text = ("职工基本医疗保险", "Employee basic medical insurance")
MEDICAL_RESIDENT: Text = ("城乡居民基本医疗保险", "Urban and rural residents' medical insurance")
ACTIVE: Text = ("正常", "Active")
SUSPENDED: Text = ("暂停", "Suspended")


def medical_insurance(id_number: str, today: date) -> Outcome:
    draws = Draws("medical_insurance", id_number)
    age = age_on(id_number, today)
    if age is None or draws.below(100) < 5:
        return "not_found", "no_record", [(RESULT, NO_RECORD)]
    employee = age >= 16 and draws.below(100) < 65
    # Residents' insurance has no personal account, so its balance is always zero.
    balance = draws.between(0, 20_000_00) if employee else 0
    reimbursed = draws.between(0, 5_000_00) * today.month // 12  # grows through the year
    return "ok", None, [
        (("险种", "Insurance type"), MEDICAL_EMPLOYEE if employee else MEDICAL_RESIDENT),
        (("个人账户余额（元）", "Personal account balance (CNY)"), yuan(balance)),
        (("本年已报销（元）", "Reimbursed this year (CNY)"), yuan(reimbursed)),
        (("参保状态", "Status"), SUSPENDED if draws.below(100) < 8 else ACTIVE),
    ]  # fmt: skip


FUND_PAYING: Text = ("正常缴存", "Paying in")
FUND_SEALED: Text = ("封存", "Dormant")


def housing_fund(id_number: str, today: date) -> Outcome:
    draws = Draws("housing_fund", id_number)
    age = age_on(id_number, today)
    if age is None or age < 18 or draws.below(100) < 20:
        return "not_found", "no_record", [(RESULT, NO_RECORD)]
    salary_fen = draws.between(3_000_00, 30_000_00)
    # Employee and employer each pay the same rate, 5-12 % of the salary.
    monthly = salary_fen * draws.between(5, 12) * 2 // 100
    paid = monthly * draws.between(1, 240)
    balance = paid - draws.between(0, paid // 2)  # some of it withdrawn along the way
    sealed = age >= 60 or draws.below(100) < 20
    last_month = month_of(today, draws.between(3, 36) if sealed else 1)
    return "ok", None, [
        (("账户状态", "Account status"), FUND_SEALED if sealed else FUND_PAYING),
        (("账户余额（元）", "Balance (CNY)"), yuan(balance)),
        (("月缴存额（元）", "Monthly deposit (CNY)"), yuan(0 if sealed else monthly)),
        (("最近缴存月份", "Last deposit month"), last_month),
    ]  # fmt: skip


# -- code services ------------------------------------------------------------------------------

APPLICATION_KINDS: tuple[tuple[Text, int], ...] = (  # what, and how many days it takes
    (("居住证办理", "Residence permit"), 15),
    (("灵活就业人员参保登记", "Social insurance registration (flexible employment)"), 5),
    (("住房公积金提取", "Housing fund withdrawal"), 3),
    (("异地就医备案", "Registration for medical care in another city"), 2),
    (("老年人优待证办理", "Senior citizen card"), 10),
    (("最低生活保障申请", "Minimum living allowance"), 30),
)
STAGES: tuple[Text, ...] = (
    ("已受理", "Received"),
    ("审核中", "Under review"),
    ("审批中", "Awaiting approval"),
    ("已办结", "Completed"),
)
UNKNOWN_APPLICATION: Text = ("查无此件，请核对办件码", "No application has this code")


def application_progress(code: str, today: date) -> Outcome:
    parsed = parse_application_code(code)
    if parsed is None or parsed[0] > today:
        return "not_found", "unknown_code", [(RESULT, UNKNOWN_APPLICATION)]
    submitted, _ = parsed
    title, days = Draws("application_progress", code.strip().upper()).pick(APPLICATION_KINDS)
    last = len(STAGES) - 1
    # The stages are spread evenly over the days the kind takes; the last one is reached on time.
    reached = min(last, (today - submitted).days * last // days)
    updated = submitted + timedelta(days=-(-reached * days // last))
    stage = STAGES[reached]
    done = reached == last
    return "ok", None, [
        (("办理事项", "Application"), title),
        (("受理日期", "Submitted"), submitted.isoformat()),
        (("当前环节", "Current stage"),
         (f"{stage[0]}（{reached + 1}/{last + 1}）", f"{stage[1]} ({reached + 1}/{last + 1})")),
        (("办理流程", "Stages"),
         (" → ".join(s[0] for s in STAGES), " → ".join(s[1] for s in STAGES))),
        (("最近更新", "Last update"), updated.isoformat()),
        (("办结日期", "Completed on") if done else ("预计办结", "Expected completion"),
         (submitted + timedelta(days=days)).isoformat()),
    ]  # fmt: skip


APPOINTMENT_MATTERS: tuple[Text, ...] = (
    ("社会保险业务", "Social security"),
    ("医疗保险业务", "Medical insurance"),
    ("住房公积金业务", "Housing fund"),
    ("居住证业务", "Residence permit"),
)
NO_APPOINTMENT: Text = ("无此预约", "No such appointment")
NOT_TODAY: Text = ("预约日期不是今天，请在预约当天签到", "This appointment is not for today")
ALREADY: Text = ("已签到，无需重复签到", "Already checked in")


def appointment_checkin(code: str, today: date, book: CheckinBook, kiosk_id: str) -> Outcome:
    parsed = parse_appointment_code(code)
    if parsed is None:
        return "not_found", "unknown_code", [(RESULT, NO_APPOINTMENT)]
    day, serial = parsed
    normal = code.strip().upper()
    draws = Draws("appointment_checkin", normal)
    minutes = 9 * 60 + 30 * ((serial - 1) % 14)  # half-hour slots, 09:00 to 15:30
    matter = draws.pick(APPOINTMENT_MATTERS)
    counter = f"{'ABC'[draws.below(3)]}{draws.between(1, 8):02d}"
    rows: list[Row] = [
        (("预约事项", "Appointment for"), matter),
        (("预约日期", "Date"), day.isoformat()),
        (("预约时间", "Time"), f"{minutes // 60:02d}:{minutes % 60:02d}"),
    ]
    if day != today:
        return "refused", "not_today", [*rows, (RESULT, NOT_TODAY)]
    rows.append((("办理窗口", "Window"), counter))
    held = book.check_in(normal, day=day.isoformat(), counter=counter, kiosk_id=kiosk_id)
    rows.append((("排队序号", "Queue position"), str(held.position)))
    if held.first:
        return "ok", None, rows
    # The first check-in's time, on the platform's clock, as the resident saw it then.
    at = datetime.fromisoformat(held.checked_in_at).astimezone().strftime("%H:%M")
    return "refused", "already_checked_in", [
        *rows, (("签到时间", "Checked in at"), at), (RESULT, ALREADY),
    ]  # fmt: skip
