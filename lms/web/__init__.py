"""The web wing: everything that knows Flask (plumbing, access checks, the four blueprints)."""
