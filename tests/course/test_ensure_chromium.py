"""tools/ensure_chromium.sh, as a fresh machine sees it: chromium hidden or present, run as
root, through sudo, or with neither. The script runs with PATH set to a folder of stand-ins
(``id``, ``sudo``, ``apt-get``) that record how they were called; the stand-in ``apt-get
install`` puts a ``chromium`` on that PATH, as the real one does. Nothing is installed."""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "ensure_chromium.sh"


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _run(tmp_path: Path, *, uid: int, sudo: bool, chromium: bool):
    """Run the script with only the stand-ins (and sh's own tools) on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for tool in ("sh", "env", "chmod"):  # what the script and the stand-ins call
        real = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True)
        if real.stdout.strip().startswith("/"):
            (bin_dir / tool).symlink_to(real.stdout.strip())
    _stub(bin_dir, "id", f"echo {uid}\n")
    _stub(
        bin_dir,
        "apt-get",
        f'echo "apt-get $*" >> {log}\n'
        f'case "$*" in *install*chromium*) printf "#!/bin/sh\\n" > {bin_dir}/chromium; '
        f"chmod 755 {bin_dir}/chromium;; esac\n",
    )
    if sudo:
        _stub(bin_dir, "sudo", f'echo "sudo $1" >> {log}\n"$@"\n')
    if chromium:
        _stub(bin_dir, "chromium", "exit 0\n")
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    done = subprocess.run(
        [os.path.realpath("/bin/sh"), str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls, (bin_dir / "chromium").exists()


def test_present_chromium_installs_nothing(tmp_path):
    done, calls, _ = _run(tmp_path, uid=1000, sudo=False, chromium=True)
    assert done.returncode == 0, done.stderr
    assert calls == []


@pytest.mark.parametrize(("uid", "sudo"), [(0, False), (1000, True)], ids=["root", "sudo"])
def test_hidden_chromium_is_installed_with_apt_get(tmp_path, uid, sudo):
    done, calls, installed = _run(tmp_path, uid=uid, sudo=sudo, chromium=False)
    assert done.returncode == 0, done.stderr
    apt = [c for c in calls if c.startswith("apt-get")]
    assert apt[0] == "apt-get update"
    assert apt[1] == "apt-get install -y --no-install-recommends chromium"
    assert any(c.startswith("sudo") for c in calls) == sudo  # sudo only when not root
    assert installed


def test_without_root_or_sudo_it_names_the_package_and_fails(tmp_path):
    done, calls, installed = _run(tmp_path, uid=1000, sudo=False, chromium=False)
    assert done.returncode == 1
    assert "apt-get install --no-install-recommends chromium" in done.stderr
    assert calls == [] and not installed
