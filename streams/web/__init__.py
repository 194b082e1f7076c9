"""The worker's web port: authentication, Host check and the pages (docs/security.md)."""
