"""``erp backup`` / ``erp restore``: a live site round-trips without losing anything."""

import os
import stat
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from erp_core import cli
from erp_core.backup import BackupError, create_backup, read_manifest, restore_backup
from erp_core.extensions import db
from erp_core.models import AuditLog
from tests.core.backup_helpers import snapshot, stamp
from tests.helpers import make_user


@pytest.fixture
def site(make_app, empty_database_url):
    """A site in a database of its own (PostgreSQL: created and dropped by the fixture)."""

    def build(plugins=(), **config):
        app = make_app(plugins=list(plugins), DATABASE_URL=empty_database_url, **config)
        stamp(app)
        return app

    return build


def test_round_trip_keeps_every_row_and_file(site, tmp_path):
    app = site(plugins=["orders"])
    for i in range(3):
        make_user(app, username=f"clerk{i}")
    uploads = tmp_path / "instance" / "uploads" / "tickets"
    uploads.mkdir(parents=True)
    (uploads / "photo.jpg").write_bytes(b"\xff\xd8jpeg bytes")
    before = snapshot(app)
    archive = tmp_path / "backup.tar.gz"
    with app.app_context():
        manifest = create_backup(archive)
    assert manifest["uploads"] == 1 and manifest["backend"] in ("sqlite", "postgresql")
    assert set(manifest["files"]) >= {"uploads/tickets/photo.jpg", "instance/secret_key"}
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())
    assert read_manifest(archive)["files"] == manifest["files"]
    # damage the site: delete rows and the file
    with app.app_context():
        db.session.execute(text("DELETE FROM core_user_role"))
        db.session.execute(text("DELETE FROM core_user"))
        db.session.commit()
    (uploads / "photo.jpg").unlink()
    make_user(app, username="someone")
    with app.app_context():
        with pytest.raises(BackupError, match="--force"):
            restore_backup(archive)  # the site holds data again: refuse without --force
        restore_backup(archive, force=True)
    assert snapshot(app) == before
    assert (uploads / "photo.jpg").read_bytes() == b"\xff\xd8jpeg bytes"


def test_backup_of_a_site_being_written_is_consistent(site, tmp_path):
    """A writer keeps appending numbered rows while the backup runs: the copy holds a gap-free prefix."""
    app = site()
    stop, warmed = threading.Event(), threading.Event()

    def writer():
        from erp_core import audit

        with app.app_context():
            n = 0
            while not stop.is_set():
                audit.record("test", str(n), "tick")
                db.session.commit()
                n += 1
                if n == 20:
                    warmed.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert warmed.wait(30)
        with app.app_context():
            create_backup(tmp_path / "live.tar.gz")
    finally:
        stop.set()
        thread.join()
    with app.app_context():
        restore_backup(tmp_path / "live.tar.gz", force=True)
        numbers = sorted(int(n) for (n,) in db.session.query(AuditLog.object_id).filter_by(object_type="test"))
    assert len(numbers) >= 20
    assert numbers == list(range(len(numbers)))


def test_cli_backup_and_restore_and_bad_archives(site, tmp_path, monkeypatch):
    app = site()
    make_user(app, username="keeper")
    monkeypatch.setattr(cli, "_APP", app)
    monkeypatch.setenv("ERP_INSTANCE_PATH", app.instance_path)
    runner = CliRunner()
    archive = tmp_path / "site.tar.gz"
    result = runner.invoke(cli.main, ["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output and archive.exists()
    refused = runner.invoke(cli.main, ["restore", str(archive)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert not (tmp_path / "instance" / "config.toml").exists()  # written for the restore, taken back
    done = runner.invoke(cli.main, ["restore", str(archive), "--force"])
    assert done.exit_code == 0, done.output
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a backup")
    bad = runner.invoke(cli.main, ["restore", str(junk), "--force"])
    assert bad.exit_code == 1 and "damaged or truncated" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(cli.main, ["restore", str(tmp_path / "nope.tar.gz")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    (tmp_path / "a-file").write_text("")
    unwritable = runner.invoke(cli.main, ["backup", str(tmp_path / "a-file" / "b.tar.gz")])
    assert unwritable.exit_code == 1 and "a-file" in unwritable.output and "Traceback" not in unwritable.output


def test_archive_and_database_and_config_are_private_whatever_the_umask(make_app, tmp_path, backend):
    from erp_core.config import write_instance_config

    old = os.umask(0)
    try:
        config = write_instance_config(tmp_path / "fresh", {"secret_key": "k"})
        app = make_app(plugins=[], DATABASE_URL=f"sqlite:///{tmp_path / 'fresh' / 'erp.sqlite'}")
        stamp(app)
        with app.app_context():
            create_backup(tmp_path / "out" / "b.tar.gz")
            restore_backup(tmp_path / "out" / "b.tar.gz", force=True)
    finally:
        os.umask(old)
    for path in (config, tmp_path / "fresh" / "erp.sqlite", tmp_path / "out" / "b.tar.gz"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
