"""Accounts: register, sign in and out, change and reset passwords."""

from lms.accounts.views import bp

__all__ = ["bp"]
