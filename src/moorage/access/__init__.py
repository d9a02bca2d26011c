"""Who is asking and for which registry: login-server resolution (and, later, the network gate)."""
