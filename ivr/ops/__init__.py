"""Operating the line: metrics, logs, reports and the follow-up text."""
