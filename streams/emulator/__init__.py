"""A local emulator of the Ed-Fi ODS/API v7 contract for studentAssessments (docs/emulator.md).

It exists because no real ODS/API can run here, and the tests, ``simulate`` and the demo need an API that
rejects what the real one rejects: OAuth2 client credentials, POST upsert by natural key, PUT/DELETE by
id, validation from the Data Standard 5.0 OpenAPI schema, descriptor and reference checks, the v7 problem
details, paging, change queries, and fault injection.

* :mod:`.core`       the API itself, as a pure async request handler
* :mod:`.transport`  an httpx transport onto the core (in-process use)
* :mod:`.server`     an aiohttp HTTP server onto the core
"""
