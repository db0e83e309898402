"""Which account a lead belongs to, for sticky ownership."""

from __future__ import annotations

from typing import Any

# Personal mailboxes say nothing about the company, so they never make a lead sticky.
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "qq.com",
        "163.com",
    }
)


def account_key(sticky: str | None, fields: dict[str, Any]) -> str | None:
    """The account a lead belongs to: its email's company domain or its `account` field."""
    lowered = {str(key).lower(): value for key, value in fields.items()}
    if sticky == "account":
        value = lowered.get("account")
        return str(value).strip().casefold() or None if value not in (None, "") else None
    if sticky == "domain":
        email = str(lowered.get("email") or "")
        domain = email.rpartition("@")[2].strip().casefold()
        return domain if "@" in email and domain and domain not in FREE_MAIL else None
    return None
