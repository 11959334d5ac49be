"""Bringing records in: statements from files or other LRSs, users and enrollments from files."""
