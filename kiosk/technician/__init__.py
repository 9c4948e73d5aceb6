"""The technician's core (no Qt): access, devices, self-tests, log redaction, the diagnostics
bundle."""
