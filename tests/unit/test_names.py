"""File names as data: a path-like name keeps only its file name; the name decides a file's type
only where its bytes cannot, at every entry alike."""

from __future__ import annotations

import pytest

from docflow.core.filetypes import sniff_file
from docflow.core.names import base_name, display_name

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../evil.txt", "evil.txt"),
        ("/etc/passwd", "passwd"),
        ("C:\\Users\\ann\\letter.pdf", "letter.pdf"),
        ("reports/2026/q1.csv", "q1.csv"),
        ("plain.txt", "plain.txt"),
        ("..", ".."),  # nothing left: shown as given (display_name makes it safe to show)
    ],
)
def test_a_path_like_name_keeps_only_its_file_name(given, kept):
    assert base_name(given) == kept


def test_a_hostile_name_is_shown_without_its_path_or_control_characters():
    assert display_name(base_name("../x/\x1b[2Jinvoice\u202etxt.exe")) == "\ufffd[2Jinvoice\ufffdtxt.exe"


def test_the_name_a_file_came_with_decides_where_its_bytes_cannot(tmp_path):
    # GIVEN comma-separated text spooled under a name without a suffix (as an upload is)
    spooled = tmp_path / "upload"
    spooled.write_bytes(b"city,person\nLyon,Anne Martin\nOslo,Ola Nordmann\n")
    # WHEN it is sniffed with the name it was uploaded under, and with the spool's name
    # THEN the real name makes it a CSV; the spool's name would have made it plain text
    assert sniff_file(spooled, filename="people.csv") == ("csv", "text/csv")
    assert sniff_file(spooled, filename="upload") == ("txt", "text/plain")
