"""The pure core: flow model, engine, answers, words and session; no I/O library is imported here."""
