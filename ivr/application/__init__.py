"""The application layer: one turn of a conversation, and the flows this process serves."""
