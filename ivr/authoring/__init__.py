"""Tools for the clinician who owns a flow: the checker, the drawings and the case bank."""
