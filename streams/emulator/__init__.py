"""A local emulator of the Ed-Fi ODS/API v7 contract for studentAssessments (docs/emulator.md).

It exists because no real ODS/API can run here, and the tests, ``simulate`` and the demo need an API that
rejects what the real one rejects: OAuth2 client credentials, POST upsert by natural key, PUT/DELETE by
id, validation from the Data Standard 5.0 OpenAPI schema, descriptor and reference checks, the v7 problem
details, paging, change queries, and fault injection.

* :mod:`.core`        the API itself, as a pure async request handler (routing, writes, durability)
* :mod:`.validation`  body validation as the ODS does it; :mod:`.problems` the error bodies
* :mod:`.queries`     GET by id, GET many (filters, paging), change queries
* :mod:`.oauth`       client credentials and bearer tokens
* :mod:`.reference`   what the ODS holds beforehand (Kansas assessments, descriptors)
* :mod:`.admin`       seeding resources over HTTP and the /admin endpoints
* :mod:`.faults`      fault injection; :mod:`.shape` the ODS read shape; :mod:`.metadata` discovery metadata
* :mod:`.transport`   an httpx transport onto the core (in-process use)
* :mod:`.server`      an aiohttp HTTP server onto the core; ``run_emulator`` for the CLI verb
"""
