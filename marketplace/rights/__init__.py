"""Residents' rights over their personal data (PIPL Arts. 44-47): a copy of everything the
site holds about them, as JSON and as a printable page."""
