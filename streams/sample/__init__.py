"""The bundled sample district (events file and configuration) used by the demo, simulate and the tests."""
