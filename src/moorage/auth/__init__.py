"""Identity of the management plane: secrets, signing keys, tokens, roles, principals, the
Entra-shaped identity endpoints, bearer authentication, the owner credential and local TLS."""
