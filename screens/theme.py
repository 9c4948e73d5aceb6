"""Colours, type sizes and the style sheet: calm, large and high-contrast (MIIT 适老化 elder mode).

Sizes are in pixels for a 1920x1080 panel: main text >= 40 px (30 pt), body >= 24 px (18 pt),
touch targets >= 96 px high; every text colour meets 4.5:1 on its background.
"""

from __future__ import annotations

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
BUTTON_MIN_H = 110
LINE_HEIGHT = 1.4
# The technician's pages hold more facts: smaller than a resident's text, still easy to read.
PIN_PX = 56
PIN_BUTTON_H = 96
DIAG_NAV_PX = 36
DIAG_PX = 30
DIAG_SMALL_PX = 26
DIAG_LOG_PX = 20


def style_sheet() -> str:
    return f"""
    QWidget {{
        font-family: "{FONT_FAMILY}";
        color: {TEXT};
    }}
    #KioskRoot, QStackedWidget > QWidget {{ background: {BACKGROUND}; }}
    #Header {{ background: {SURFACE}; border-bottom: 2px solid #D9D2C3; }}
    #HeaderTitle {{ font-size: {BODY_PX}px; font-weight: bold; }}
    #Clock {{ font-size: {BODY_PX}px; color: {MUTED}; }}
    #SyncStatus {{ font-size: {SMALL_PX}px; color: {MUTED}; }}
    #SyncStatus[link="offline"] {{ color: {NOTICE}; }}
    QLabel[role="title"] {{ font-size: {TITLE_PX}px; font-weight: bold; }}
    QLabel[role="main"] {{ font-size: {MAIN_PX}px; }}
    QLabel[role="body"] {{ font-size: {BODY_PX}px; color: {MUTED}; }}
    QLabel[role="notice"] {{
        font-size: {NOTICE_PX}px; color: {NOTICE}; background: {NOTICE_BG};
        border-radius: 16px; padding: 18px 28px;
    }}
    QLabel[role="ticket"] {{ font-size: {TICKET_PX}px; font-weight: bold; color: {PRIMARY}; }}
    QPushButton {{
        font-size: {MAIN_PX}px; min-height: {BUTTON_MIN_H}px; padding: 8px 48px;
        border-radius: 20px; background: {SURFACE}; color: {PRIMARY};
        border: 3px solid {SECONDARY_BORDER};
    }}
    QPushButton:pressed {{ background: #E3EFEC; }}
    QPushButton[variant="primary"] {{ background: {PRIMARY}; color: white; border: none; }}
    QPushButton[variant="primary"]:pressed {{ background: {PRIMARY_PRESSED}; }}
    QPushButton[variant="quiet"] {{ font-size: {BODY_PX}px; min-height: 80px; padding: 4px 36px; }}
    QPushButton[variant="tile"] {{
        text-align: left; padding: 24px 48px; min-height: 170px; border-radius: 28px;
        font-size: {MAIN_PX}px;
    }}
    QPushButton:disabled {{
        background: {DISABLED_BG}; color: {DISABLED_TEXT}; border-color: #9A958C;
    }}
    #TimeoutBanner {{ background: {NOTICE_BG}; border-top: 3px solid {NOTICE}; }}
    #TimeoutBanner QLabel {{ font-size: {BODY_PX}px; color: {NOTICE}; }}
    #PinOverlay {{ background: rgba(29, 39, 48, 200); }}
    #PinPanel {{ background: {SURFACE}; border-radius: 28px; }}
    QPushButton[variant="pin"] {{
        font-size: {PIN_PX}px; min-height: {BUTTON_MIN_H}px; padding: 0;
    }}
    #PinPanel QPushButton {{ min-height: {PIN_BUTTON_H}px; }}
    #PinPanel QPushButton[variant="primary"], #pinDelete {{
        padding: 0 12px; font-size: {MAIN_PX}px;
    }}
    #DiagnosticsScreen, #DiagnosticsScreen QStackedWidget > QWidget,
    #DiagnosticsScreen QScrollArea > QWidget > QWidget {{ background: {BACKGROUND}; }}
    #DiagNav {{ background: {SURFACE}; border-right: 2px solid #D9D2C3; }}
    QPushButton[variant="nav"] {{
        font-size: {DIAG_NAV_PX}px; min-height: 96px; text-align: left; padding: 4px 28px;
    }}
    QPushButton[variant="nav"]:checked {{ background: {PRIMARY}; color: white; }}
    #diagLeave {{ font-size: {DIAG_NAV_PX}px; min-height: 96px; padding: 4px 28px; }}
    QPushButton[variant="diagtest"] {{
        font-size: {DIAG_PX}px; min-height: 96px; text-align: left; padding: 4px 28px;
    }}
    QPushButton[variant="diagfilter"] {{
        font-size: {DIAG_PX}px; min-height: 80px; padding: 4px 24px;
    }}
    QPushButton[variant="diagfilter"]:checked {{ background: {PRIMARY}; color: white; }}
    #DiagnosticsScreen QPushButton {{ font-size: {DIAG_PX}px; min-height: 96px; }}
    QLabel[role="diag"] {{ font-size: {DIAG_PX}px; }}
    QLabel[role="diagheading"] {{ font-size: {DIAG_NAV_PX}px; font-weight: bold; }}
    QLabel[role="diagproblem"] {{
        font-size: {NOTICE_PX}px; font-weight: bold; color: {NOTICE}; background: {NOTICE_BG};
        border-radius: 16px; padding: 18px 28px;
    }}
    QLabel[role="diagproblem"][ok="true"] {{ color: {PRIMARY}; background: #E3EFEC; }}
    QLabel[role="diagcard"] {{
        font-size: {DIAG_SMALL_PX}px; background: {SURFACE}; border-radius: 16px;
        padding: 16px 24px; border: 2px solid #D9D2C3;
    }}
    QLabel[role="diagresult"] {{ font-size: {DIAG_SMALL_PX}px; color: {MUTED}; }}
    QLabel[role="diagresult"][verdict="pass"] {{ color: {PRIMARY}; font-weight: bold; }}
    QLabel[role="diagresult"][verdict="skip"] {{ color: {MUTED}; font-weight: bold; }}
    QLabel[role="diagresult"][verdict="fail"] {{ color: {NOTICE}; font-weight: bold; }}
    #logsText {{
        font-family: "DejaVu Sans Mono", "{FONT_FAMILY}"; font-size: {DIAG_LOG_PX}px;
        background: {SURFACE}; border: 2px solid #D9D2C3; border-radius: 12px; }}
    #SimPanel {{ background: {SIM_BG}; }}
    #SimPanel QLabel {{ color: #F0F0F0; font-size: 18px; }}
    #SimPanel QPushButton:checked {{ background: #9A3412; border-color: #F0F0F0; }}
    #SimPanel QPushButton {{
        font-size: 18px; min-height: 40px; padding: 4px 14px; border-radius: 8px;
        background: #444; color: #F0F0F0; border: 1px solid #777;
    }}
    """
