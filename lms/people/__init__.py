"""People as a concept: credentials, sign-in throttling, erasing an account."""
