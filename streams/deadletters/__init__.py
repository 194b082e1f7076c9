"""The district user's error log: read, group, retry and archive the dead-letter topic (`edfi-stream errors`)."""
