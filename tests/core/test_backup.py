"""``erp backup`` / ``erp restore``: a live site round-trips without losing anything."""

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from erp_core import cli
from erp_core.backup import BackupError, create_backup, restore_backup
from erp_core.extensions import db
from erp_core.models import AuditLog
from tests.helpers import make_user


def _snapshot(app) -> dict:
    """Every row of every table, for comparison."""
    with app.app_context():
        tables = sorted(t for t in inspect(db.engine).get_table_names() if t != "alembic_version")
        with db.engine.connect() as conn:
            return {t: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{t}"')).all())) for t in tables}


def test_round_trip_keeps_every_row_and_file(make_app, tmp_path):
    app = make_app(plugins=["orders"])
    for i in range(3):
        make_user(app, username=f"clerk{i}")
    uploads = tmp_path / "instance" / "uploads" / "tickets"
    uploads.mkdir(parents=True)
    (uploads / "photo.jpg").write_bytes(b"\xff\xd8jpeg bytes")
    before = _snapshot(app)
    archive = tmp_path / "backup.tar.gz"
    with app.app_context():
        manifest = create_backup(archive)
    assert manifest["files"] == 1 and manifest["backend"] in ("sqlite", "postgresql")
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
    after = _snapshot(app)
    assert after == before
    assert (uploads / "photo.jpg").read_bytes() == b"\xff\xd8jpeg bytes"


def test_backup_of_a_site_being_written_is_consistent(make_app, tmp_path):
    """A writer keeps appending numbered rows while the backup runs: the copy holds a gap-free prefix."""
    app = make_app(plugins=[])
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


def test_cli_backup_and_restore_and_bad_archives(make_app, tmp_path, monkeypatch):
    app = make_app(plugins=[])
    make_user(app, username="keeper")
    monkeypatch.setattr(cli, "_APP", app)
    runner = CliRunner()
    archive = tmp_path / "site.tar.gz"
    result = runner.invoke(cli.main, ["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output and archive.exists()
    refused = runner.invoke(cli.main, ["restore", str(archive)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert runner.invoke(cli.main, ["restore", str(archive), "--force"]).exit_code == 0
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a backup")
    bad = runner.invoke(cli.main, ["restore", str(junk), "--force"])
    assert bad.exit_code == 1 and "not a backup" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(cli.main, ["restore", str(tmp_path / "nope.tar.gz")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
