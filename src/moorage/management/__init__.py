"""The management API in the resource manager's shape (Microsoft.ContainerRegistry/registries)."""
