"""Local brokers for tests, benchmarks and the demo (Apache Kafka 4 in apache.py, tansu in embedded.py, chosen in
select.py) and small admin helpers (admin.py). The product's own Kafka edge is streams/kafka/."""
