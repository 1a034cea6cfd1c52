"""Operations: scheduled cleanup and backups, restore, per-user export and deletion, and their authentication."""
