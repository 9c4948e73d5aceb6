"""The service catalogue's format: which services a terminal offers and what each needs.

It is a contract: a signed bundle carries a catalogue to the fleet, and the platform checks one
before it is published. What is usable *now* is the terminal's business
(kiosk/config/availability.py).

The catalogue is data (``catalogue.json``, replaceable by a signed configuration bundle): each
service has a code, names and help texts in every language, an icon, the steps a resident goes
through, what happens at the end (its action), whether it works offline and the devices it needs.
Steps are words from a small vocabulary:

``identify:<means>[|<means>]``  the resident identifies with any one of the means (``id_card``,
                                ``social_security_card``); skipped when already identified
``scan``                        show a QR code (a receipt, an appointment) to the camera
``choose``                      pick one of the service's options
``keypad:<kind>``               enter a number on the on-screen keypad (``phone``, ``code``)
``feedback``                    write a few words on the on-screen keyboard
``confirm``                     check and confirm
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from contracts.device_kinds import DeviceKind

LANGUAGES = ("zh_CN", "en")
ACTIONS = ("ticket", "query", "certificate", "checkin", "progress", "feedback", "call_staff")
IDENTIFY_MEANS = {
    "id_card": DeviceKind.ID_CARD_READER,
    "social_security_card": DeviceKind.SMART_CARD_READER,
}
KEYPAD_KINDS = ("phone", "code")
# What an action asks the platform (kiosk-central /services/query) when it is a query.
PLATFORM_QUERIES = {"query", "certificate", "checkin", "progress"}


@dataclass(frozen=True)
class ServiceOption:
    code: str
    prefix: str  # queue ticket letter for this kind of window
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    kind: str  # identify, scan, choose, keypad, feedback, confirm
    detail: tuple[str, ...] = ()  # identify: the means; keypad: the kind

    @property
    def word(self) -> str:
        return f"{self.kind}:{'|'.join(self.detail)}" if self.detail else self.kind


@dataclass(frozen=True)
class Service:
    code: str
    icon: str
    names: Mapping[str, str]
    helps: Mapping[str, str]
    steps: tuple[Step, ...]
    action: str
    works_offline: bool
    needs: tuple[DeviceKind, ...]
    options: tuple[ServiceOption, ...] = ()
    query: str | None = None  # the platform's service code for query-like actions
    offline: str = "none"  # what an online-only service does offline: "request_slip" or "none"

    def option(self, code: str) -> ServiceOption | None:
        return next((o for o in self.options if o.code == code), None)

    @property
    def identify_means(self) -> tuple[str, ...]:
        return next((s.detail for s in self.steps if s.kind == "identify"), ())

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("zh_CN", "")


@dataclass(frozen=True)
class Catalogue:
    services: tuple[Service, ...]

    def get(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)

    def texts(self, language: str) -> dict[str, str]:
        """The catalogue's own texts as translation keys, for the screens and receipts."""
        out: dict[str, str] = {}
        for service in self.services:
            out[f"service.{service.code}.name"] = service.name(language)
            out[f"service.{service.code}.help"] = service.helps.get(language) or service.helps.get(
                "zh_CN", ""
            )
            for option in service.options:
                if option.names:
                    out[f"option.{option.code}"] = option.names.get(language) or option.names.get(
                        "zh_CN", ""
                    )
        return out


_KIND = {kind.value: kind for kind in DeviceKind}  # a dict lookup is cheaper than DeviceKind(n)


class CatalogueError(ValueError):
    """The catalogue data is wrong; the message names the service and the field."""


def _texts(raw: object, what: str, option: object = None) -> dict[str, str]:
    # The field's name is only spelt out on an error: this runs a thousand times a catalogue.
    if not isinstance(raw, dict) or not all(type(v) is str for v in raw.values()):
        raise CatalogueError(f"{_field(what, option)} must be an object of language -> text")
    for lang in LANGUAGES:
        if not raw.get(lang, "").strip():
            missing = [x for x in LANGUAGES if not raw.get(x, "").strip()]
            raise CatalogueError(f"{_field(what, option)} has no text for {', '.join(missing)}")
    return raw


def _field(what: str, option: object) -> str:
    return f"options[{option}].name" if option is not None else what


def _step(word: object) -> Step:
    if not isinstance(word, str):
        raise CatalogueError(f"step {word!r} is not a word")
    return _step_of(word)


@lru_cache(maxsize=64)  # a catalogue repeats a handful of step words hundreds of times
def _step_of(word: str) -> Step:
    kind, _, rest = word.partition(":")
    detail = tuple(rest.split("|")) if rest else ()
    if kind == "identify":
        if not detail or any(m not in IDENTIFY_MEANS for m in detail):
            raise CatalogueError(f"step {word!r}: identify by {', '.join(IDENTIFY_MEANS)}")
    elif kind == "keypad":
        if len(detail) != 1 or detail[0] not in KEYPAD_KINDS:
            raise CatalogueError(f"step {word!r}: keypad:{'|'.join(KEYPAD_KINDS)}")
    elif kind in ("scan", "choose", "feedback", "confirm"):
        if detail:
            raise CatalogueError(f"step {word!r} takes no detail")
    else:
        raise CatalogueError(f"unknown step {word!r}")
    return Step(kind, detail)


def _service(raw: dict[str, object]) -> Service:
    code = str(raw["code"])
    action = str(raw.get("action", "ticket"))
    if action not in ACTIONS:
        raise CatalogueError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    steps = tuple(_step(w) for w in raw.get("steps", ["confirm"]))  # type: ignore[attr-defined]
    options = tuple(
        ServiceOption(
            str(o["code"]),
            str(o.get("prefix", "")),
            _texts(o["name"], "options", o.get("code")) if "name" in o else {},
        )
        for o in raw.get("options", [])  # type: ignore[attr-defined]
    )
    kinds = [s.kind for s in steps]
    if "choose" in kinds and not options:
        raise CatalogueError("a 'choose' step needs options")
    if action in PLATFORM_QUERIES and not raw.get("query"):
        raise CatalogueError(f"action {action!r} needs 'query' (the platform's service)")
    needs = [_KIND.get(n) or DeviceKind(n) for n in raw.get("needs", [])]  # type: ignore[attr-defined]
    if "scan" in kinds and DeviceKind.CAMERA not in needs:
        needs.append(DeviceKind.CAMERA)
    offline = str(raw.get("offline", "none"))
    if offline not in ("none", "request_slip"):
        raise CatalogueError(f"offline {offline!r} is not none or request_slip")
    return Service(
        code=code,
        icon=str(raw.get("icon", "")),
        names=_texts(raw["name"], "name"),
        helps=_texts(raw.get("help", raw["name"]), "help"),
        steps=steps,
        action=action,
        works_offline=bool(raw.get("works_offline", False)),
        needs=tuple(needs),
        options=options,
        query=str(raw["query"]) if raw.get("query") else None,
        offline=offline,
    )


def parse_catalogue(data: dict[str, object]) -> Catalogue:
    raw_services = data.get("services")
    if not isinstance(raw_services, list) or not raw_services:
        raise CatalogueError("catalogue: 'services' must be a non-empty list")
    services: list[Service] = []
    codes: set[str] = set()
    for i, raw in enumerate(raw_services):
        try:
            if not isinstance(raw, dict):
                raise CatalogueError("must be an object")
            service = _service(raw)
            if service.code in codes:
                raise CatalogueError(f"code {service.code!r} appears twice")
            codes.add(service.code)
            services.append(service)
        except (KeyError, TypeError, ValueError) as exc:
            what = f"services[{i}]" + (f" ({raw.get('code')})" if isinstance(raw, dict) else "")
            raise CatalogueError(f"catalogue: {what}: {exc}") from exc
    return Catalogue(tuple(services))
