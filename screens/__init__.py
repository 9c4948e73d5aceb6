"""The PySide6 user interface: screens render the visit's state; they never decide the flow."""
