"""What the studio writes is its own: the SQLite database and its -wal and -shm 0600, the data directory
0700 (media modes are Django's FILE_UPLOAD_PERMISSIONS and FILE_UPLOAD_DIRECTORY_PERMISSIONS).

SQLite creates a database with the process's umask (0644 as a rule) and gives its -wal, -shm and -journal
the database's own mode, so a database file that starts 0600 keeps all of them private. ``prepare()``
creates the configured database file that way before the first connection opens it (and tightens one made
before); ``tighten_database`` (on every new connection) does the same for databases made later, such as a
test run's.
Modes are only ever tightened, never loosened.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from django.conf import settings

DATABASE_MODE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def create_private(path: Path | str, mode: int = DATABASE_MODE) -> None:
    """Create an empty file with ``mode`` (SQLite takes an empty file for an empty database); an existing
    file is left as it is."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode))


def tighten(path: Path | str, mode: int) -> None:
    """Take away every permission ``mode`` does not grant (never adds one); a missing file is fine."""
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        os.chmod(path, current & mode)


def _sqlite_path(name) -> Path | None:
    text = str(name or "")
    if not text or text == ":memory:" or text.startswith("file:") or "mode=memory" in text:
        return None
    return Path(text)


def tighten_database(sender, connection, **kwargs) -> None:
    """connection_created: the database file and its companions to 0600."""
    if connection.vendor != "sqlite":
        return
    path = _sqlite_path(connection.settings_dict.get("NAME"))
    if path is None:
        return
    for suffix in SQLITE_COMPANIONS:
        tighten(f"{path}{suffix}", DATABASE_MODE)


def data_dir_mode() -> int:
    return 0o750 if getattr(settings, "STUDIO_MEDIA_GROUP_READABLE", False) else 0o700


def prepare() -> None:
    """At start-up, before any connection: the data directory tightened, SQLite databases created private."""
    from django.db.backends.signals import connection_created

    tighten(settings.DATA_DIR, data_dir_mode())
    for database in settings.DATABASES.values():
        if database.get("ENGINE") == "django.db.backends.sqlite3":
            path = _sqlite_path(database.get("NAME"))
            if path is not None and path.parent.is_dir():
                create_private(path)
                for suffix in SQLITE_COMPANIONS:  # one made before this, world-readable as SQLite left it
                    tighten(f"{path}{suffix}", DATABASE_MODE)
    connection_created.connect(tighten_database, dispatch_uid="studio.filemodes.tighten_database")
