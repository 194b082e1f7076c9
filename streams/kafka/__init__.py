"""The product's Kafka edge: client configurations built once from the settings, the producer factory, and
the embedded tansu broker's workarounds (active only with ``kafka.broker: tansu``)."""
