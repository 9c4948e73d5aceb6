"""Colours, type sizes and the style sheet: calm, large and high-contrast (MIIT 适老化 elder mode).

Sizes are in pixels for a 1920x1080 panel: main text >= 40 px (30 pt), body >= 24 px (18 pt),
touch targets >= 96 px high; every text colour meets 4.5:1 on its background.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

FONT_FAMILY = "WenQuanYi Micro Hei"

BACKGROUND = "#F5F1E8"  # warm paper, easier on older eyes than pure white
SURFACE = "#FFFFFF"
TEXT = "#1D2730"  # 14.5:1 on BACKGROUND
MUTED = "#3F4B55"  # 8.6:1 on BACKGROUND
PRIMARY = "#0B6158"  # white text on it: 7.3:1
PRIMARY_PRESSED = "#084A43"
SECONDARY_BORDER = "#0B6158"
NOTICE = "#8A3B00"  # amber-brown, 7.5:1 on BACKGROUND: attention without alarm
NOTICE_BG = "#FFF1DC"
DISABLED_TEXT = "#4A4A4A"  # still 7:1: a greyed-out tile must remain readable
DISABLED_BG = "#E4E0D8"
SIM_BG = "#2B2B2B"

TITLE_PX = 64
MAIN_PX = 44
BODY_PX = 32
NOTICE_PX = 38  # what went wrong and what to do: larger than body text
SMALL_PX = 26  # the smallest text a resident ever sees (>= 24 px = 18 pt)
TICKET_PX = 180
TILE_NAME_PX = 42
BUTTON_MIN_H = 110
LINE_HEIGHT = 1.4
# The technician's pages hold more facts: smaller than a resident's text, still easy to read.
PIN_PX = 56
PIN_BUTTON_H = 96
DIAG_NAV_PX = 36
DIAG_PX = 30
DIAG_SMALL_PX = 26
DIAG_LOG_PX = 20


@dataclass(frozen=True)
class Look:
    """One theme: every colour and size the style sheet uses. The three looks below are the
    only place colours and sizes are chosen; widgets never pick their own."""

    name: str
    background: str = BACKGROUND
    surface: str = SURFACE
    text: str = TEXT
    muted: str = MUTED
    primary: str = PRIMARY
    primary_pressed: str = PRIMARY_PRESSED
    on_primary: str = "#FFFFFF"
    border: str = SECONDARY_BORDER
    notice: str = NOTICE
    notice_bg: str = NOTICE_BG
    disabled_text: str = DISABLED_TEXT
    disabled_bg: str = DISABLED_BG
    pressed_bg: str = "#E3EFEC"
    rule: str = "#D9D2C3"
    tile_title: str = PRIMARY  # a service's name on its tile
    title_px: int = TITLE_PX
    main_px: int = MAIN_PX
    body_px: int = BODY_PX
    notice_px: int = NOTICE_PX
    small_px: int = SMALL_PX
    ticket_px: int = TICKET_PX
    tile_name_px: int = TILE_NAME_PX
    button_min_h: int = BUTTON_MIN_H
    tile_min_h: int = 126
    quiet_min_h: int = 80
    tiles_per_page: int = 9  # the catalogue shows this many services at once
    choices_per_page: int = 6  # a service's options (window kinds, certificates) at once
    # The header and the footer hold buttons of this look's sizes, margins included.
    header_h: int = 112
    footer_h: int = 156
    footer_side_px: int = 96
    animate: bool = True  # spinners turn; elder mode keeps everything still


NORMAL = Look("normal")
# 长辈模式: larger everything, four services a screen, nothing that moves.
ELDER = replace(
    NORMAL, name="elder", title_px=72, main_px=52, body_px=36, notice_px=42, small_px=30,
    ticket_px=210, tile_name_px=56, button_min_h=128, tile_min_h=190, quiet_min_h=96,
    tiles_per_page=4, choices_per_page=4, animate=False, header_h=128, footer_h=176,
    footer_side_px=40,
)  # fmt: skip
# High contrast: white and yellow on black, every pair at least 7:1 (WCAG AAA).
HIGH_CONTRAST = replace(
    NORMAL, name="contrast", background="#000000", surface="#000000", text="#FFFFFF",
    muted="#FFFFFF", primary="#FFD400", primary_pressed="#FFE766", on_primary="#000000",
    border="#FFFFFF", notice="#FFD400", notice_bg="#1A1A1A", disabled_text="#D0D0D0",
    disabled_bg="#262626", pressed_bg="#333333", rule="#FFFFFF", tile_title="#FFFFFF",
    footer_side_px=72,  # its bold text is wider: the footer row needs the room
)  # fmt: skip


def look_for(elder: bool, contrast: bool) -> Look:
    if elder and contrast:
        return replace(ELDER, name="elder-contrast", **{
            f: getattr(HIGH_CONTRAST, f) for f in _COLOURS
        })  # fmt: skip
    return ELDER if elder else HIGH_CONTRAST if contrast else NORMAL


_current = [NORMAL]  # one slot: the look the window shows now


def use(look: Look) -> None:
    """The look the window applies now; painted widgets and widgets with sheets of their own
    read their colours and sizes from ``current()``."""
    _current[0] = look


def current() -> Look:
    return _current[0]


_COLOURS = (
    "background", "surface", "text", "muted", "primary", "primary_pressed", "on_primary",
    "border", "notice", "notice_bg", "disabled_text", "disabled_bg", "pressed_bg", "rule",
    "tile_title",
)  # fmt: skip


def style_sheet(look: Look = NORMAL) -> str:
    k = look
    return f"""
    QWidget {{
        font-family: "{FONT_FAMILY}";
        color: {k.text};
    }}
    #KioskRoot, QStackedWidget > QWidget {{ background: {k.background}; }}
    #Header {{ background: {k.surface}; border-bottom: 2px solid {k.rule}; }}
    #HeaderTitle {{ font-size: {k.body_px}px; font-weight: bold; }}
    #Clock {{ font-size: {k.body_px}px; color: {k.muted}; }}
    #SyncStatus {{ font-size: {k.small_px}px; color: {k.muted}; }}
    #SyncStatus[link="offline"] {{ color: {k.notice}; }}
    QLabel[role="title"] {{ font-size: {k.title_px}px; font-weight: bold; }}
    QLabel[role="main"] {{ font-size: {k.main_px}px; }}
    QLabel[role="body"] {{ font-size: {k.body_px}px; color: {k.muted}; }}
    QLabel[role="notice"] {{
        font-size: {k.notice_px}px; color: {k.notice}; background: {k.notice_bg};
        border-radius: 16px; padding: 18px 28px;
    }}
    QLabel[role="ticket"] {{ font-size: {k.ticket_px}px; font-weight: bold; color: {k.primary}; }}
    QPushButton {{
        font-size: {k.main_px}px; min-height: {k.button_min_h}px; padding: 8px 48px;
        border-radius: 20px; background: {k.surface}; color: {k.primary};
        border: 3px solid {k.border};
    }}
    QPushButton:pressed {{ background: {k.pressed_bg}; }}
    QPushButton[variant="primary"] {{
        background: {k.primary}; color: {k.on_primary}; border: none;
    }}
    QPushButton[variant="primary"]:pressed {{ background: {k.primary_pressed}; }}
    QPushButton[variant="quiet"] {{
        font-size: {k.body_px}px; min-height: {k.quiet_min_h}px; padding: 4px 36px;
    }}
    QPushButton[variant="quiet"]:checked {{ background: {k.primary}; color: {k.on_primary}; }}
    QPushButton[variant="tile"] {{
        text-align: left; padding: 24px 48px; min-height: 170px; border-radius: 28px;
        font-size: {k.main_px}px;
    }}
    QPushButton[variant="tile"] {{ min-height: {k.tile_min_h}px; padding: 0; }}
    QPushButton[variant="face"] {{
        padding-top: 130px; font-size: {k.body_px}px; border-radius: 28px;
    }}
    QPushButton[variant="face"]:checked {{
        border: 8px solid {k.primary}; background: {k.pressed_bg}; font-weight: bold;
    }}
    #voiceToggle:checked, #elderButton:checked, #contrastButton:checked {{
        background: {k.primary}; color: {k.on_primary};
    }}
    #elderYes {{ background: {k.primary}; color: {k.on_primary}; border: none; }}
    QLabel[role="tilename"] {{
        font-size: {k.tile_name_px}px; font-weight: bold; color: {k.tile_title};
    }}
    QLabel[role="tilehelp"] {{ font-size: {k.small_px}px; color: {k.muted}; }}
    QLabel[role="tilereason"] {{ font-size: {k.small_px}px; color: {k.notice}; }}
    QLabel[role="tilename"][greyed="true"] {{ color: {k.disabled_text}; font-weight: normal; }}
    #ElderSuggestion {{ background: {k.notice_bg}; border-radius: 16px; }}
    QLabel[role="answerlabel"] {{ font-size: {k.body_px}px; color: {k.muted}; }}
    QLabel[role="answervalue"] {{ font-size: {k.main_px}px; font-weight: bold; }}
    QPushButton:disabled {{
        background: {k.disabled_bg}; color: {k.disabled_text}; border-color: {k.muted};
    }}
    #TimeoutBanner {{ background: {k.notice_bg}; border-top: 3px solid {k.notice}; }}
    #TimeoutBanner QLabel {{ font-size: {k.body_px}px; color: {k.notice}; }}
    #PinOverlay {{ background: rgba(29, 39, 48, 200); }}
    #PinPanel {{ background: {k.surface}; border-radius: 28px; }}
    QPushButton[variant="pin"] {{
        font-size: {PIN_PX}px; min-height: {k.button_min_h}px; padding: 0;
    }}
    #PinPanel QPushButton {{ min-height: {PIN_BUTTON_H}px; }}
    #PinPanel QPushButton[variant="primary"], #pinDelete {{
        padding: 0 12px; font-size: {k.main_px}px;
    }}
    #DiagnosticsScreen, #DiagnosticsScreen QStackedWidget > QWidget,
    #DiagnosticsScreen QScrollArea > QWidget > QWidget {{ background: {k.background}; }}
    #DiagNav {{ background: {k.surface}; border-right: 2px solid {k.rule}; }}
    QPushButton[variant="nav"] {{
        font-size: {DIAG_NAV_PX}px; min-height: 96px; text-align: left; padding: 4px 28px;
    }}
    QPushButton[variant="nav"]:checked {{ background: {k.primary}; color: {k.on_primary}; }}
    #diagLeave {{ font-size: {DIAG_NAV_PX}px; min-height: 96px; padding: 4px 28px; }}
    QPushButton[variant="diagtest"] {{
        font-size: {DIAG_PX}px; min-height: 96px; text-align: left; padding: 4px 28px;
    }}
    QPushButton[variant="diagfilter"] {{
        font-size: {DIAG_PX}px; min-height: 80px; padding: 4px 24px;
    }}
    QPushButton[variant="diagfilter"]:checked {{ background: {k.primary}; color: {k.on_primary}; }}
    #DiagnosticsScreen QPushButton {{ font-size: {DIAG_PX}px; min-height: 96px; }}
    QLabel[role="diag"] {{ font-size: {DIAG_PX}px; }}
    QLabel[role="diagheading"] {{ font-size: {DIAG_NAV_PX}px; font-weight: bold; }}
    QLabel[role="diagproblem"] {{
        font-size: {k.notice_px}px; font-weight: bold; color: {k.notice}; background: {k.notice_bg};
        border-radius: 16px; padding: 18px 28px;
    }}
    QLabel[role="diagproblem"][ok="true"] {{ color: {k.primary}; background: {k.pressed_bg}; }}
    QLabel[role="diagcard"] {{
        font-size: {DIAG_SMALL_PX}px; background: {k.surface}; border-radius: 16px;
        padding: 16px 24px; border: 2px solid {k.rule};
    }}
    QLabel[role="diagresult"] {{ font-size: {DIAG_SMALL_PX}px; color: {k.muted}; }}
    QLabel[role="diagresult"][verdict="pass"] {{ color: {k.primary}; font-weight: bold; }}
    QLabel[role="diagresult"][verdict="skip"] {{ color: {k.muted}; font-weight: bold; }}
    QLabel[role="diagresult"][verdict="fail"] {{ color: {k.notice}; font-weight: bold; }}
    #logsText {{
        font-family: "DejaVu Sans Mono", "{FONT_FAMILY}"; font-size: {DIAG_LOG_PX}px;
        background: {k.surface}; border: 2px solid {k.rule}; border-radius: 12px; }}
    #SimPanel {{ background: {SIM_BG}; }}
    #SimPanel QLabel {{ color: #F0F0F0; font-size: 18px; }}
    #SimPanel QPushButton:checked {{ background: #9A3412; border-color: #F0F0F0; }}
    #SimPanel QPushButton {{
        font-size: 16px; min-height: 34px; padding: 2px 10px; border-radius: 8px;
        background: #444; color: #F0F0F0; border: 1px solid #777;
    }}
    """
