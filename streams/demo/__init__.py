"""`edfi-stream demo`: the whole product on one machine, started and stopped by one command."""
