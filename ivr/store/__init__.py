"""Redis: conversations, connections, the flow archive and the audit stream."""
