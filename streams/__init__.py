"""edfi-stream: SIS change events on Kafka -> Kansas v3.6 Student Assessments rules -> Ed-Fi ODS/API writes.

Package map (folders show the architecture):

* ``streams.sis``       SIS rows and the Debezium change envelope (typed, validated).
* ``streams.rules``     the pure rule engine: SIS rows in, Ed-Fi write commands out (no I/O imports).
* ``streams.codec``     Avro (Confluent wire format) and JSON codecs for every topic.
* ``streams.edfi``      the Ed-Fi ODS/API client: OAuth, retries, identity map; knows HTTP, not SIS rules.
* ``streams.emulator``  a local Ed-Fi ODS/API v7 emulator for tests, ``simulate`` and the demo.
* ``streams.broker``    local brokers (Apache Kafka 4, tansu) for tests, benchmarks and the demo.
* ``streams.kafka``     the Kafka edge: client settings, producer factory, topics, start-up checks.
* ``streams.observability`` Prometheus metrics and health endpoints.
* ``streams.cli``       the ``edfi-stream`` command.
* ``agents``            (top-level package) the Faust app: thin wiring around the above.
"""

__version__ = "0.1.0"
