"""A restore changes nothing unless everything checks out: damaged archives, garbage databases,
a site still serving; and it brings back a working site, secret key included."""

import hashlib
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from erp_core import cli
from erp_core.backup import create_backup
from erp_core.backup.archive import FORMAT
from erp_core.backup.lock import lock_path
from tests.core.backup_helpers import (
    MANIFEST,
    MANIFEST_SUM,
    flipped,
    read_members,
    resealed,
    snapshot,
    stamp,
    write_members,
)
from tests.helpers import make_user


@pytest.fixture
def live(make_app, empty_database_url, tmp_path, monkeypatch):
    """A site with a user and an upload, its backup, and a way to try restores through the CLI."""
    app = make_app(plugins=[], DATABASE_URL=empty_database_url)
    stamp(app)
    make_user(app, username="keeper")
    photo = tmp_path / "instance" / "uploads" / "photo.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"\xff\xd8 photo")
    archive = tmp_path / "good.tar.gz"
    with app.app_context():
        create_backup(archive)
    monkeypatch.setattr(cli, "_APP", app)
    monkeypatch.setenv("ERP_INSTANCE_PATH", app.instance_path)

    class Live:
        def __init__(self):
            self.app, self.archive, self.photo, self.url = app, archive, photo, empty_database_url

        def refused(self, path, expected: str):
            """Restore ``path`` with --force: refused in one line, and nothing changed."""
            before = snapshot(app)
            result = CliRunner().invoke(cli.main, ["restore", str(path), "--force"])
            assert result.exit_code == 1, result.output
            errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
            assert len(errors) == 1 and expected in errors[0], result.output
            assert "Traceback" not in result.output and "Aborted" not in result.output
            assert snapshot(app) == before
            assert photo.read_bytes() == b"\xff\xd8 photo"
            assert not (tmp_path / "instance" / "config.toml").exists()

    return Live()


def test_one_flipped_byte_in_any_member_is_refused(live, tmp_path):
    members = read_members(live.archive)
    assert [m.name for m, _ in members][:2] == [MANIFEST, MANIFEST_SUM]
    for index, (_member, _) in enumerate(members):
        damaged = [(m, flipped(data) if i == index else data) for i, (m, data) in enumerate(members)]
        path = write_members(tmp_path / f"flip-{index}.tar.gz", damaged)
        live.refused(path, "damaged")


def test_damaged_truncated_and_incomplete_archives_are_refused(live, tmp_path):
    raw = live.archive.read_bytes()
    for at in (len(raw) // 3, len(raw) // 2, len(raw) - 5):
        (tmp_path / "flip.tar.gz").write_bytes(flipped(raw, at))
        live.refused(tmp_path / "flip.tar.gz", "damaged")
    for size in (len(raw) // 2, len(raw) - 1, 100):
        (tmp_path / "cut.tar.gz").write_bytes(raw[:size])
        live.refused(tmp_path / "cut.tar.gz", "damaged or truncated")
    members = read_members(live.archive)
    without_db = [(m, d) for m, d in members if not m.name.startswith("database.")]
    live.refused(write_members(tmp_path / "nodb.tar.gz", without_db), "database.")
    extra = members + [(members[-1][0], b"smuggled")]
    extra[-1][0].name = "uploads/extra.txt"
    live.refused(write_members(tmp_path / "extra.tar.gz", extra), "does not list")


def test_archives_without_a_checked_manifest_are_refused(live, tmp_path):
    members = read_members(live.archive)
    no_manifest = [(m, d) for m, d in members if m.name not in (MANIFEST, MANIFEST_SUM)]
    live.refused(write_members(tmp_path / "old.tar.gz", no_manifest), "no checksummed manifest")
    manifest = json.loads(members[0][1])
    manifest.update(format=1, files=1)  # as the previous `erp backup` wrote it: no checksums to check
    old = [(members[0][0], json.dumps(manifest).encode()), *members[2:]]
    live.refused(write_members(tmp_path / "format1.tar.gz", old), "older `erp backup`")
    manifest.update(format=FORMAT + 1)
    data = json.dumps(manifest).encode()
    newer = [(members[0][0], data), (members[1][0], hashlib.sha256(data).hexdigest().encode()), *members[2:]]
    live.refused(write_members(tmp_path / "format3.tar.gz", newer), "format this version does not know")


def test_a_garbage_or_foreign_database_is_refused_before_it_replaces_anything(live, tmp_path, backend):
    dump = "database.sqlite" if backend == "sqlite" else "database.pgdump"

    def garbage(folder, manifest):
        (folder / dump).write_bytes(b"garbage " * 4096)

    live.refused(resealed(live.archive, tmp_path / "garbage.tar.gz", tmp_path / "g", garbage), "not")

    def unknown_revision(folder, manifest):
        manifest["heads"] = ["core_9999"]

    live.refused(resealed(live.archive, tmp_path / "newer.tar.gz", tmp_path / "n", unknown_revision),
                 "core_9999")
    if backend != "sqlite":
        def damaged_data(folder, manifest):  # its table of contents reads fine; the last table's data does not
            data = (folder / dump).read_bytes()
            (folder / dump).write_bytes(flipped(data, len(data) - 6))

        # pg_restore fails part-way; its single transaction leaves the site's database as it was
        live.refused(resealed(live.archive, tmp_path / "data.tar.gz", tmp_path / "d", damaged_data),
                     "pg_restore failed: pg_restore: error: could not uncompress data")
        return
    import sqlite3

    def empty_database(folder, manifest):
        (folder / dump).unlink()
        sqlite3.connect(folder / dump).execute("CREATE TABLE t (x)").connection.close()

    live.refused(resealed(live.archive, tmp_path / "foreign.tar.gz", tmp_path / "f", empty_database),
                 "not an ERP database")

    def other_revisions(folder, manifest):
        conn = sqlite3.connect(folder / dump)
        conn.execute("DELETE FROM alembic_version")
        conn.commit()
        conn.close()

    live.refused(resealed(live.archive, tmp_path / "norev.tar.gz", tmp_path / "r", other_revisions), "revision")

    def damaged_page(folder, manifest):
        data = bytearray((folder / dump).read_bytes())
        page = 4096
        data[page * 2:page * 3] = b"\x0d" + b"\xff" * (page - 1)  # a b-tree page with nonsense cells
        (folder / dump).write_bytes(bytes(data))

    live.refused(resealed(live.archive, tmp_path / "page.tar.gz", tmp_path / "p", damaged_page), "malformed")


def _serving_process(app, url):
    """A second process that opens the app the way gunicorn does (``erp_core.wsgi``)."""
    env = dict(os.environ, ERP_INSTANCE_PATH=app.instance_path, ERP_SECRET_KEY="x", ERP_DATABASE_URL=url,
               ERP_LOAD_ENTRY_POINTS="0", ERP_PLUGINS="")
    code = "import erp_core.wsgi, time; print('serving', flush=True); time.sleep(120)"
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "serving"
    return process


def test_restore_refuses_while_a_server_process_holds_the_site(live):
    process = _serving_process(live.app, live.url)
    try:
        live.refused(live.archive, "the site is running")  # --force does not bypass it
    finally:
        process.kill()
        process.wait()
    result = CliRunner().invoke(cli.main, ["restore", str(live.archive), "--force"])
    assert result.exit_code == 0, result.output
    assert lock_path(live.app.instance_path).exists()


def test_a_tracking_link_signed_before_the_backup_opens_after_restore_into_a_new_instance(
        make_app, empty_database_url, tmp_path, monkeypatch, backend):
    from erp_core.config import write_instance_config
    from erp_core.extensions import db
    from plugins.orders.models import Order
    from plugins.support import public
    from tests.support.helpers import make_order

    old_folder, new_folder, secret = tmp_path / "old", tmp_path / "new", "a-secret-of-the-old-site-" + "x" * 20
    write_instance_config(old_folder, {"secret_key": secret})
    app = make_app(plugins=["orders", "support"], instance=old_folder, SECRET_KEY=secret,
                   DATABASE_URL=empty_database_url)
    stamp(app)
    with app.test_request_context():
        order = make_order()
        access = public.ensure_access(db.session.get(Order, order.id))
        db.session.commit()
        link = f"/help/t/{order.id}/{public.tracking_token(order.id, access.nonce)}"
        create_backup(tmp_path / "site.tar.gz")
    assert app.test_client().get(link).status_code == 200
    for name, value in {"ERP_INSTANCE_PATH": str(new_folder), "ERP_PLUGINS": "orders,support",
                        "ERP_LOAD_ENTRY_POINTS": "0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ERP_SECRET_KEY", raising=False)
    args = ["restore", str(tmp_path / "site.tar.gz")]
    if backend != "sqlite":  # the same database (its own, made for this test), from a new instance folder
        monkeypatch.setenv("ERP_DATABASE_URL", empty_database_url)
        args.append("--force")
    monkeypatch.setattr(cli, "_APP", None)
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    restored = cli._APP
    try:
        assert (new_folder / "config.toml").stat().st_mode & 0o777 == 0o600
        assert restored.config["SECRET_KEY"] == secret
        assert restored.test_client().get(link).status_code == 200
        assert restored.test_client().get(link[:-2] + "xx").status_code == 404
    finally:
        with restored.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


def test_the_secret_key_of_a_configured_site_is_replaced_and_its_other_settings_kept(live, tmp_path):
    config = tmp_path / "instance" / "config.toml"
    config.write_text('secret_key = "other"\ncurrency = "EUR"\n')
    result = CliRunner().invoke(cli.main, ["restore", str(live.archive), "--force"])
    assert result.exit_code == 0, result.output
    assert config.read_text().splitlines() == ['secret_key = "test-secret-key"', 'currency = "EUR"']
    with live.app.app_context():
        from erp_core.extensions import db

        assert db.session.execute(text("SELECT count(*) FROM core_user")).scalar() == 1


def test_restore_warns_when_the_environment_overrides_the_restored_secret_key(live, monkeypatch):
    from erp_core.backup import restore_backup

    monkeypatch.setenv("ERP_SECRET_KEY", "another-key")
    with live.app.app_context():
        notes = restore_backup(live.archive, force=True)["notes"]
    assert len(notes) == 1 and "ERP_SECRET_KEY" in notes[0]


def test_format_constant_is_the_one_written(live):
    assert json.loads(read_members(live.archive)[0][1])["format"] == FORMAT


@pytest.mark.parametrize("command", [["run", "--port", "0"], ["worker", "--burst"]])
def test_erp_run_and_erp_worker_hold_the_serving_lock(live, monkeypatch, command):
    from erp_core.backup import BackupError, lock, site_stopped

    seen = []

    def serve(*args, **kwargs):
        with pytest.raises(BackupError, match="the site is running"), site_stopped(live.app.instance_path):
            pass
        seen.append(True)

    monkeypatch.setattr("werkzeug.serving.run_simple", serve)
    monkeypatch.setattr("erp_core.cli._check_ready", lambda: None)
    held = len(lock._held)
    try:
        result = CliRunner().invoke(cli.main, command)
        assert result.exit_code == 0, result.output
        if command[0] == "worker":
            serve()
        assert seen
    finally:
        while len(lock._held) > held:
            os.close(lock._held.pop())
