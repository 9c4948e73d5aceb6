"""Receipt layout to ESC/POS bytes, and the preview that reads those bytes back."""

from __future__ import annotations

import pytest

from drivers.escpos_layout import (
    CJK_OFF,
    CJK_ON,
    PrinterProfile,
    encode_text,
    qr_native,
    render,
    wrap,
)
from drivers.escpos_preview import PreviewError, render_preview
from drivers.receipt import Align, Feed, Qr, Receipt, Rule, Text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", b"abc"),
        ("号码", CJK_ON + "号码".encode("gb18030") + CJK_OFF),
        # Full-width punctuation and the yuan sign alone still go through FS & ... FS .
        ("，", CJK_ON + "，".encode("gb18030") + CJK_OFF),
        ("￥5", CJK_ON + "￥".encode("gb18030") + CJK_OFF + b"5"),
        ("A001 号", b"A001 " + CJK_ON + "号".encode("gb18030") + CJK_OFF),
    ],
)
def test_chinese_is_sent_explicitly(text: str, expected: bytes) -> None:
    assert encode_text(text, "gb18030") == expected


def test_gbk_profile_encodes_with_gbk() -> None:
    assert encode_text("社区", "gbk") == CJK_ON + "社区".encode("gbk") + CJK_OFF


def test_wrap_counts_wide_characters_twice() -> None:
    assert wrap("一二三四五", 6) == ["一二三", "四五"]
    assert wrap("please wait here", 10) == ["please", "wait here"]
    assert all(len(line) <= 12 for line in wrap("x" * 40, 12))


def test_native_qr_is_the_five_gs_k_commands() -> None:
    data = qr_native("hi", 6)
    assert data == (
        b"\x1d(k\x04\x00\x31\x41\x32\x00"
        b"\x1d(k\x03\x00\x31\x43\x06"
        b"\x1d(k\x03\x00\x31\x45\x31"
        b"\x1d(k\x05\x00\x31\x50\x30hi"
        b"\x1d(k\x03\x00\x31\x51\x30"
    )


RECEIPT = Receipt(
    (
        Text("和平里社区服务中心", scale=2, bold=True, align=Align.CENTER),
        Rule(),
        Text("A007", scale=4, align=Align.CENTER),
        Qr("KIOSK-TICKET:1234"),
        Feed(2),
        Text("Please wait 请稍候"),
    )
)


def test_render_starts_with_reset_and_ends_with_cut() -> None:
    data = render(RECEIPT, PrinterProfile())
    assert data.startswith(b"\x1b@")
    assert data.endswith(b"\x1dV\x42\x03")
    assert b"\x1d!\x33A007" in data  # 4x size for the ticket number
    assert b"-" * 48 in data


@pytest.mark.parametrize("native", [True, False])
def test_preview_draws_the_receipt(native: bool) -> None:
    data = render(RECEIPT, PrinterProfile(native_qr=native))
    image = render_preview(data)
    assert image.width == 576 + 48
    assert image.height > 500
    # The QR code is drawn: thousands of black pixels beyond what the text alone makes.
    text_only = render_preview(render(Receipt(RECEIPT.elements[:3]), PrinterProfile()))
    dark = sum(image.histogram()[:128])
    assert dark - sum(text_only.histogram()[:128]) > 5000


def test_preview_rejects_a_truncated_command() -> None:
    with pytest.raises(PreviewError, match="cut short"):
        render_preview(b"\x1b@\x1d(k\x40\x00\x31\x50")


def test_preview_rejects_unknown_commands() -> None:
    with pytest.raises(PreviewError, match="unknown command"):
        render_preview(b"\x1b\x99")
