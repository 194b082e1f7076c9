"""The ``edfi-stream`` command line (contract section 5)."""
