"""Operations: backups, the storage sweep, migrations."""
