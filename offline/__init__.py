"""Durable local storage for the terminal: the SQLite outbox and what sits beside it. No Qt here."""
