"""Request limits, CORS and CSRF rules, rate limiting and the audit log."""
