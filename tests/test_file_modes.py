"""What the studio writes is its own: the SQLite database (and its -wal and -shm) 0600, media 0600 in
folders 0700, the data directory 0700."""

from __future__ import annotations

import io
import os
import sqlite3
import stat
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from studio import filemodes
from studio.assets.services import create_asset


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_media_files_are_0600_in_folders_0700(world, settings):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48)).save(buffer, "PNG")
    asset = create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=SimpleUploadedFile("p.png", buffer.getvalue()),
        expect="image",
    )
    path = Path(asset.file.path)
    assert mode(path) == 0o600
    folder = path.parent
    while folder != Path(settings.MEDIA_ROOT).parent:
        assert mode(folder) == 0o700, folder  # every folder the storage made, MEDIA_ROOT included
        folder = folder.parent


def test_the_settings_ask_storage_for_private_modes():
    assert settings.FILE_UPLOAD_PERMISSIONS == 0o600
    assert settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS == 0o700


def test_the_data_directory_is_0700():
    assert mode(settings.DATA_DIR) == 0o700


def test_the_database_file_and_its_wal_are_0600(db):
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    name = Path(connection.settings_dict["NAME"])
    for path in (name, Path(f"{name}-wal"), Path(f"{name}-shm")):
        if path.exists():
            assert mode(path) == 0o600, path


def test_a_new_database_is_created_private_before_sqlite_opens_it(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    filemodes.create_private(path)
    assert path.exists() and path.stat().st_size == 0 and mode(path) == 0o600
    with sqlite3.connect(path) as db:  # SQLite gives its -wal and -shm the database's own mode
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        assert mode(f"{path}-wal") == 0o600 and mode(f"{path}-shm") == 0o600


def test_an_existing_world_readable_database_is_made_private_on_connect(tmp_path):
    path = tmp_path / "old.sqlite3"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    Path(f"{path}-wal").touch(mode=0o644)

    class Connection:
        vendor = "sqlite"
        settings_dict = {"NAME": str(path)}

    filemodes.tighten_database(sender=None, connection=Connection())
    assert mode(path) == 0o600 and mode(f"{path}-wal") == 0o600


def test_tightening_never_loosens_and_skips_memory_databases(tmp_path):
    path = tmp_path / "strict.sqlite3"
    path.touch(mode=0o400)
    path.chmod(0o400)
    filemodes.tighten(path, 0o600)
    assert mode(path) == 0o400

    class Memory:
        vendor = "sqlite"
        settings_dict = {"NAME": ":memory:"}

    filemodes.tighten_database(sender=None, connection=Memory())  # nothing to do, nothing raised
