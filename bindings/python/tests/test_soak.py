"""The short soak (tests/soak.py, in its own process so that nothing else the suite allocated
counts): the resident set stays flat over repeated requests and streamed media files."""
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).with_name("soak.py")


def test_resident_set_stays_flat_over_repeated_requests_and_media():
    run = subprocess.run(
        [sys.executable, str(SOAK), "2000", "30"], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "python requests 2000" in run.stdout and "python media 30" in run.stdout, run.stdout
