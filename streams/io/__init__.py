"""Reading events files and publishing them to Kafka (the `produce` verb, the demo and the tests)."""
