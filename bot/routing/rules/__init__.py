"""Rules: which queue a lead goes to, from its fields.

- `matching.py`: conditions compiled once, matched first-wins, each verdict in words;
- `lead_fields.py`: a lead's fields as intake reads them (one reading for HTTP and CLI).
"""
