"""Accounts: register, sign in and out, change and reset passwords."""

from lms.web.accounts.views import bp

__all__ = ["bp"]
