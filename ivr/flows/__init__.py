"""Flow files: the TOML a clinician writes (or a flow archived as JSON), read and validated into
the core flow model."""
