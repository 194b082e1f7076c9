"""The embedded Kafka-compatible broker (tansu) for tests and the demo, and small admin helpers."""
