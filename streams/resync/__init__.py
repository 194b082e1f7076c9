"""`edfi-stream resync` (seed 003, Resync Logic): bring the ODS in line with what the rules say about the
current SIS state, and `edfi-stream replay`: rebuild the worker's state from the SIS topics."""
