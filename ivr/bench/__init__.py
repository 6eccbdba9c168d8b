"""`ivr bench`: the line's throughput and latency against the framework's own floor, on a real Redis."""
