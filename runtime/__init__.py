"""What every long-lived part of the terminal shares at run time, below drivers and the outbox:
the supervisor that keeps their threads alive (``runtime.supervisor``). Standard library only."""
