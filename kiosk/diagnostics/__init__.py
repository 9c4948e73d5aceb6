"""Diagnostics for field technicians, without Qt: device facts, self-tests, logs, the redacted
bundle and technician access. The diagnostics mode's pages and ``kiosk diag ...`` both use it."""
