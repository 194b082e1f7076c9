"""The Ed-Fi ODS/API client: OAuth, typed errors, retries, the identity map and ordered dispatch.

It knows HTTP and Ed-Fi, not SIS rules: it executes :class:`streams.writes.WriteCommand` records.
"""
