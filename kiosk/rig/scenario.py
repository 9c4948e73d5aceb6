"""The scenario format: one pydantic model per step, from which the JSON Schema is generated.

A scenario is a name, what it needs (devices by role, settings over the rig's configuration, the
network at the start) and a list of steps. Each step is a mapping with exactly one key, the step's
kind; its value is the step's arguments, or a scalar shorthand for the main one
(``touch: startButton`` is ``touch: {control: startButton}``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.device_kinds import DeviceKind

Seconds = Annotated[float, Field(gt=0, le=3600)]
Role = Literal["id_card_reader", "receipt_printer", "camera", "smart_card_reader"]
# YAML 1.1 reads on/off as booleans: `elder: on` is True.
OnOff = bool
Language = Literal["zh_CN", "en"]
# The states a visit can be in (kiosk/visit/view.py State), as the probe and views name them.
StateName = Literal[
    "attract", "identify", "catalogue", "scan", "choose", "keypad", "feedback", "confirm",
    "processing", "result", "rating", "problem", "goodbye", "technician",
]  # fmt: skip

# Every simulator fault README "Running on real hardware" lists, by device role. Kept equal to the
# simulators' own sets by tests/rig/test_loading.py.
SIMULATOR_FAULTS: dict[str, frozenset[str]] = {
    DeviceKind.ID_CARD_READER.value: frozenset(
        {
            "no_card",
            "read_failed",
            "removed_mid_read",
            "bad_checksum",
            "silence",
            "garbage",
            "unplugged",
        }
    ),
    DeviceKind.RECEIPT_PRINTER.value: frozenset({"paper_out", "cover_open", "unplugged"}),
    DeviceKind.SMART_CARD_READER.value: frozenset(
        {"no_card", "removed_mid_read", "garbage", "silence", "unplugged"}
    ),
    DeviceKind.CAMERA.value: frozenset({"stalled", "unplugged", "no_frames", "black"}),
}
DEFAULT_WAIT = 10.0  # seconds a wait or an expectation gives the terminal unless told otherwise


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TouchArgs(_Args):
    control: str = Field(min_length=1, description="object name or accessible name (its text)")
    timeout: Seconds = Field(DEFAULT_WAIT, description="seconds to wait for it to be touchable")


class Touch(_Args):
    """Touch a control as a person does: it must be on screen, enabled and not covered."""

    touch: str | TouchArgs


class IdRecord(_Args):
    """An ID card's text record, given inline (GA/T 490 fields)."""

    name: str = Field(min_length=1, max_length=15)
    id_number: str = Field(pattern=r"^\d{17}[\dX]$")
    sex: Literal["1", "2"] = "2"
    nation: str = Field("01", pattern=r"^\d{2}$")
    birth_date: date | None = None  # default: from the ID number
    address: str = Field("北京市东城区和平里街道安康胡同8号", max_length=35)
    authority: str = Field("北京市公安局东城分局", max_length=15)
    valid_from: date = date(2020, 1, 1)
    valid_to: date | None = None  # None: 长期


class CardArgs(_Args):
    resident: str | None = Field(None, description="a sample resident by name (kiosk rig list)")
    record: IdRecord | None = None
    wait: bool = Field(
        True,
        description="wait for the reader to finish reading (read or failed); false when a "
        "fault keeps it from seeing the card (no_card, unplugged)",
    )


class PresentCard(_Args):
    """Lay an ID card on the (simulated) reader: a sample resident by name, or a record."""

    present_card: str | CardArgs


class RemoveCard(_Args):
    """Take the card off the reader."""

    remove_card: None = None


class QrArgs(_Args):
    text: str | None = Field(None, min_length=1, max_length=256)
    sample: Literal["application", "appointment"] | None = Field(
        None, description="a platform-issued sample code: application progress or appointment"
    )
    serial: int = Field(1, ge=1, le=899)


class SmartCardArgs(_Args):
    wait: bool = Field(
        True,
        description="wait for the reader to read the card or fail; false when a fault keeps it "
        "from seeing the card (no_card, unplugged)",
    )


class InsertSmartCard(_Args):
    """Put the simulated social-security card in the PC/SC reader (the virtual card in pcscd's
    vpcd reader)."""

    insert_smart_card: SmartCardArgs | None = None


class RemoveSmartCard(_Args):
    """Take the social-security card out of the PC/SC reader."""

    remove_smart_card: None = None


class ShowQr(_Args):
    """Hold a QR code up to the (simulated) camera until hide_qr or the scenario's end."""

    show_qr: str | QrArgs


class HideQr(_Args):
    hide_qr: None = None


class FaultArgs(_Args):
    device: Role
    fault: str


class Inject(_Args):
    """Switch a simulator fault on (README "Running on real hardware" lists them)."""

    inject: FaultArgs


class Clear(_Args):
    """Switch a simulator fault off."""

    clear: FaultArgs


class Unplug(_Args):
    """Pull a simulated device out (its ``unplugged`` fault)."""

    unplug: Role


class Replug(_Args):
    """Plug it back in."""

    replug: Role


class Network(_Args):
    """Cut or restore the network between the terminal and the platform (the rig's proxy)."""

    network: Literal["cut", "restore"]


class Elder(_Args):
    """Elder mode on or off, by touching the header's button when it is not so already."""

    elder: OnOff


class Contrast(_Args):
    contrast: OnOff


class LanguageStep(_Args):
    language: Language


class ControlArgs(_Args):
    control: str = Field(min_length=1)
    shown: Literal["touchable", "greyed", "hidden"] = "touchable"
    timeout: Seconds = DEFAULT_WAIT


class ExpectControl(_Args):
    """A control is touchable, on screen but greyed, or not on screen (within the timeout)."""

    expect_control: ControlArgs


class WaitArgs(_Args):
    state: StateName | None = None
    text: str | None = Field(None, min_length=1, description="a text shown on screen (part of)")
    gone: bool = Field(False, description="wait for the text to leave the screen instead")
    timeout: Seconds = DEFAULT_WAIT


class WaitFor(_Args):
    """Wait for a state, a text on screen, or both."""

    wait_for: StateName | WaitArgs


class ReceiptArgs(_Args):
    text: list[str] = Field(default_factory=list, description="each must appear on the receipt")
    absent: list[str] = Field(default_factory=list, description="none may appear")
    qr: str | None = Field(None, description="the QR payload; '*' in it matches anything")
    timeout: Seconds = DEFAULT_WAIT


class ExpectReceipt(_Args):
    """The next receipt printed, decoded from the ESC/POS bytes the printer received."""

    expect_receipt: ReceiptArgs


class NoReceipt(_Args):
    """Nothing was printed since the last receipt expected."""

    expect_no_receipt: None = None


class RowsArgs(_Args):
    service: str | None = Field(None, description="a service code, rating or visit_metrics")
    count: int = Field(1, ge=0)
    state: Literal["pending", "sent", "acknowledged", "dead"] | None = None
    timeout: Seconds = DEFAULT_WAIT


class ExpectOutbox(_Args):
    """Rows in the terminal's outbox (transactions of this scenario, by service and state)."""

    expect_outbox: RowsArgs


class PlatformRowsArgs(_Args):
    service: str | None = None
    count: int = Field(1, ge=0)
    timeout: Seconds = Field(30, gt=0, le=3600)


class ExpectPlatform(_Args):
    """Rows the platform received from this terminal (the embedded platform's database)."""

    expect_platform: PlatformRowsArgs


class WaitTimeoutArgs(_Args):
    then: StateName | None = Field(None, description="the state the timeout must lead to")


class WaitTimeout(_Args):
    """Let the current step's timeout run out (the session's clock is moved past it)."""

    wait_timeout: WaitTimeoutArgs | None = None


class Screenshot(_Args):
    """Save the screen as <artifacts>/<scenario>/<name>.png."""

    screenshot: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")


class ConfigArgs(_Args):
    payload: dict[str, Any] = Field(
        default_factory=dict,
        description="the bundle's payload as operators write it (centre, timeouts, language, "
        "receipt_qr, catalogue); schema_version defaults to the terminal's",
    )
    drop_services: list[str] = Field(
        default_factory=list,
        description="the shipped catalogue without these services, as the payload's catalogue",
    )
    bundle: str | None = Field(
        None,
        min_length=1,
        description="a signed bundle file (relative to the scenario) published as it is, "
        "instead of a payload the rig signs",
    )
    version: int | None = Field(
        None, ge=1, description="default: one above any version this terminal was offered"
    )
    signatures: Literal["valid", "forged", "untrusted", "none"] = Field(
        "valid",
        description="valid: the rig's trusted keys; forged: theirs over other content; "
        "untrusted: keys the terminal does not trust; none: unsigned",
    )
    expect: Literal["taken_up", "waiting", "refused", "rolled_back"] | None = Field(
        None,
        description="what the terminal reports: taken_up (in force), waiting (applied, for the "
        "visit in progress to end), refused, rolled_back; default taken_up for valid "
        "signatures, refused for others",
    )
    reason: str | None = Field(
        None, min_length=1, description="text the report's reason must hold (bad_signature)"
    )
    timeout: Seconds = Field(60, description="seconds for the terminal's report")


class TakeConfig(_Args):
    """Publish a signed configuration bundle to the terminal's platform, as operators do, and
    wait for the terminal's report: taken up between visits, waiting for a visit to end,
    refused, or rolled back."""

    take_config: ConfigArgs


class AskArgs(_Args):
    prompt: str = Field(min_length=1, description="what the person at the rig should do")
    until: WaitArgs | None = Field(None, description="done when this holds (else: Enter)")
    timeout: Seconds = 120


class Ask(_Args):
    """Ask the person at the rig to act on a real device, and wait (semi-automatic tests)."""

    ask: str | AskArgs


STEP_MODELS: dict[str, type[_Args]] = {
    "touch": Touch,
    "present_card": PresentCard,
    "remove_card": RemoveCard,
    "insert_smart_card": InsertSmartCard,
    "remove_smart_card": RemoveSmartCard,
    "show_qr": ShowQr,
    "hide_qr": HideQr,
    "inject": Inject,
    "clear": Clear,
    "unplug": Unplug,
    "replug": Replug,
    "network": Network,
    "elder": Elder,
    "contrast": Contrast,
    "language": LanguageStep,
    "wait_for": WaitFor,
    "expect_control": ExpectControl,
    "expect_receipt": ExpectReceipt,
    "expect_no_receipt": NoReceipt,
    "expect_outbox": ExpectOutbox,
    "expect_platform": ExpectPlatform,
    "wait_timeout": WaitTimeout,
    "screenshot": Screenshot,
    "ask": Ask,
    "take_config": TakeConfig,
}

Step = (
    Touch | PresentCard | RemoveCard | InsertSmartCard | RemoveSmartCard | ShowQr | HideQr
    | Inject | Clear | Unplug | Replug | Network | Elder | Contrast | LanguageStep | WaitFor
    | ExpectControl | ExpectReceipt
    | NoReceipt | ExpectOutbox | ExpectPlatform | WaitTimeout | Screenshot | Ask | TakeConfig
)  # fmt: skip


class Scenario(_Args):
    """A scripted visit (or several) against the real terminal."""

    name: str = Field(min_length=1, max_length=120)
    description: str = ""
    devices: list[Role] = Field(
        default_factory=list, description="the device roles it needs, checked before it runs"
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="configuration over the rig's (the TOML's keys)"
    )
    network: Literal["up", "down"] = Field("up", description="the platform link at the start")
    real_devices: bool = Field(False, description="meant for real devices (ask steps)")
    steps: list[Step] = Field(min_length=1)


def schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (shipped as kiosk/rig/scenario.schema.json)."""
    out = Scenario.model_json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = "https://kiosk.example/rig/scenario.schema.json"
    return out
