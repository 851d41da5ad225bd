"""One Pulumi ComponentResource per Azure concern, sharing the interface in components.base."""
