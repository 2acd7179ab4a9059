"""Identity: organizations, users, projects, memberships and API tokens."""
