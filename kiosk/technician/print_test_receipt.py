"""The receipt ``kiosk diag print-test`` prints: Chinese and English text, a QR code and a cut."""

from __future__ import annotations

from datetime import datetime

from drivers.receipt import Align, Qr, Receipt, Rule, Text


def print_test_receipt(driver: str, encoding: str, columns: int) -> Receipt:
    """The test receipt, naming the *driver*, *encoding* and *columns* it was printed with."""
    return Receipt(
        (
            Text("打印测试 Print test", scale=2, bold=True, align=Align.CENTER),
            Rule(),
            Text("中文：社区服务中心，排队取号，￥0.00"),
            Text("English: the quick brown fox jumps over the lazy dog 0123456789"),
            Text(f"{datetime_now()}  {driver}  {encoding}  {columns} cols"),
            Qr("KIOSK-PRINT-TEST"),
            Text("二维码 QR code", align=Align.CENTER),
        )
    )


def datetime_now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")
