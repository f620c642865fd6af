"""Authentication and access: users, roles, sessions, CSRF and the audit log."""
