"""`edfi-stream simulate`: the rules and the egress over an events file, no Kafka, in-process Ed-Fi API."""
