"""A checkout's local settings file (.env.local, written by `make setup`) and production's refusal."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def changxin(*args: str, env_file: Path, tmp_path: Path, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    base = {k: v for k, v in base.items() if not k.startswith(("CHANGXIN_", "DJANGO_", "PYTEST_"))}
    base.update(
        PYTHONPATH=str(ROOT),
        CHANGXIN_ENV_FILE=str(env_file),
        CHANGXIN_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "changxin.cli", *args],
        env=base,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_commands_work_with_the_local_file_and_nothing_exported(tmp_path):
    env_file = tmp_path / ".env.local"
    env_file.write_text("# written by make setup\nDEBUG=1\nSECRET_KEY='generated-for-this-checkout'\n")
    result = changxin("check", env_file=env_file, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_without_the_file_and_debug_off_it_refuses_to_start(tmp_path):
    result = changxin("check", env_file=tmp_path / "absent.env", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_the_real_environment_wins_over_the_file(tmp_path):
    env_file = tmp_path / ".env.local"
    env_file.write_text("DEBUG=1\n")  # no key: only DEBUG=1 lets the process start without one
    assert changxin("check", env_file=env_file, tmp_path=tmp_path).returncode == 0
    refused = changxin("check", env_file=env_file, tmp_path=tmp_path, DEBUG="0")
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_writes_the_local_file_once_and_never_replaces_the_key(tmp_path):
    def make() -> None:
        subprocess.run(
            [
                "make",
                "-s",
                "-f",
                str(ROOT / "Makefile"),
                "-C",
                str(tmp_path),
                f"PYTHON={sys.executable}",
                ".env.local",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    make()
    env_file = tmp_path / ".env.local"
    first = env_file.read_text()
    lines = dict(line.split("=", 1) for line in first.splitlines() if line and not line.startswith("#"))
    assert lines["DEBUG"] == "1" and len(lines["SECRET_KEY"]) >= 50
    assert env_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    make()
    assert env_file.read_text() == first
