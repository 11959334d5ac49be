"""xAPI: statements, their validation per version, storage and queries."""
