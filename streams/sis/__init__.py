"""SIS rows and change events: the typed, validated form of contract section 1."""
