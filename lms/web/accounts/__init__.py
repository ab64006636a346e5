"""Accounts: register, sign in and out, change and reset passwords, delete the account."""

from lms.web.accounts.views import bp

__all__ = ["bp"]
