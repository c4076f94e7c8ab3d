"""ZIP archives (issue 26): the list of what an archive holds, its members handed over as files of
their own, or read in place as pages; the limits of e-mail attachments. Real archives, real registry."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from docflow.core.errors import PermanentError
from docflow.core.filetypes import detect_file_type
from tasks.steps.extract import extract_document
from tasks.steps.extract.attachments import MAX_ATTACHMENT_DEPTH, MAX_ATTACHMENTS
from tests.fixtures.everyday import ARCHIVE_MEMBERS, freight_archive, lying_member_zip

pytestmark = pytest.mark.unit


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "freight.zip"
    path.write_bytes(freight_archive())
    return path


def test_a_zip_is_detected_as_an_archive_and_a_document_inside_one_name_as_itself(
    archive: Path, tmp_path: Path
) -> None:
    assert detect_file_type(data_head=archive.read_bytes(), filename="freight.zip") == ("zip", "application/zip")
    assert detect_file_type(data_head=archive.read_bytes(), filename="noname")[0] == "zip"
    # A .docx under a .zip name is still the Word document it is; a .zip under a .docx name is refused.
    docx = ARCHIVE_MEMBERS["slides/harbour_slide.pptx"][0]()
    assert detect_file_type(data_head=docx, filename="deck.zip")[0] == "pptx"
    with pytest.raises(PermanentError, match=r"looks like a ZIP archive, not a Word \.docx document"):
        detect_file_type(data_head=archive.read_bytes(), filename="letter.docx")
    # A ZIP under the name of another ZIP-based format (Keynote, Java, StarOffice) is not an archive of documents.
    with pytest.raises(PermanentError, match=r"looks like a ZIP-based \.key file, a kind docflow does not read"):
        detect_file_type(data_head=archive.read_bytes(), filename="deck.key")


def test_members_are_handed_over_as_files_and_listed(archive: Path, tmp_path: Path) -> None:
    # GIVEN an archive of three documents, a folder entry and a program WHEN extracted with a members folder
    folder = tmp_path / "members"
    folder.mkdir()
    result = extract_document(path=archive, file_type="zip", members_dir=folder)
    # THEN each document is a member file of its own, with its path, name and type
    assert [(m.member_path, m.name, m.file_type) for m in result.members] == [
        (path, path.rsplit("/", 1)[-1], file_type) for path, (_writer, file_type) in ARCHIVE_MEMBERS.items()
    ]
    assert all(member.path.parent == folder and member.size == member.path.stat().st_size for member in result.members)
    assert result.members[0].path.read_bytes() == ARCHIVE_MEMBERS["letters/agreement.txt"][0]()
    # AND the archive's text lists every file, the program with why it was not taken
    lines = [e.text for e in result.elements]
    assert lines[0] == "ZIP archive of 4 files"
    assert lines[1:4] == list(ARCHIVE_MEMBERS)
    assert lines[4].startswith("tools/setup.exe (not extracted: unsupported file type: looks like a Windows executable")
    assert result.page_count == 1


def test_without_a_members_folder_members_are_read_in_place_as_pages(archive: Path) -> None:
    # GIVEN the archive WHEN extracted without a members folder (a ZIP attached to an e-mail)
    result = extract_document(path=archive, file_type="zip")
    # THEN each member is read behind its label, on pages after the list, like an attachment
    labels = [(e.text, e.page) for e in result.elements if e.text.startswith("Attachment: ")]
    assert labels == [(f"Attachment: {path}", page) for page, path in enumerate(ARCHIVE_MEMBERS, start=2)]
    assert "Maria Gonzalez of Acme Logistics Inc." in result.text()
    assert result.members == []


def test_a_member_that_lies_about_its_size_is_refused_as_a_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(lying_member_zip())
    folder = tmp_path / "members"
    folder.mkdir()
    result = extract_document(path=path, file_type="zip", members_dir=folder)
    assert result.members == [] and list(folder.iterdir()) == []
    assert result.elements[1].text == (
        "report.txt (not extracted: the file unpacks to more than the 4,096 bytes it declares (possible zip bomb))"
    )


def test_an_encrypted_member_is_listed_as_encrypted(tmp_path: Path) -> None:
    # GIVEN an archive whose member is marked encrypted (ZipCrypto flag) WHEN extracted
    data = bytearray(_zip({"secret.txt": b"Rotterdam"}))
    for start, offset in ((data.find(b"PK\x03\x04"), 6), (data.find(b"PK\x01\x02"), 8)):
        data[start + offset] |= 0x1
    path = tmp_path / "locked.zip"
    path.write_bytes(bytes(data))
    result = extract_document(path=path, file_type="zip", members_dir=tmp_path)
    # THEN it is listed with the reason, and the archive still reads
    assert (
        result.elements[1].text
        == "secret.txt (not extracted: the file is encrypted (the archive is protected by a password))"
    )


def test_the_attachment_limits_hold(tmp_path: Path) -> None:
    # GIVEN an archive of more files than an e-mail may carry attachments
    path = tmp_path / "many.zip"
    path.write_bytes(_zip({f"note{n:03}.txt": f"note {n} from Rotterdam".encode() for n in range(MAX_ATTACHMENTS + 2)}))
    result = extract_document(path=path, file_type="zip", members_dir=tmp_path)
    # THEN only as many are taken, the rest listed with the reason
    assert len(result.members) == MAX_ATTACHMENTS
    assert (
        result.elements[-1].text
        == f"note{MAX_ATTACHMENTS + 1:03}.txt (not extracted: more than {MAX_ATTACHMENTS} files taken from one archive)"
    )
    # AND an archive already nested as deep as attachments may be takes nothing
    nested = extract_document(path=path, file_type="zip", members_dir=tmp_path, depth=MAX_ATTACHMENT_DEPTH)
    assert nested.members == []
    assert (
        nested.elements[1].text == f"note000.txt (not extracted: nested more than {MAX_ATTACHMENT_DEPTH} levels deep)"
    )


def test_an_archive_of_nothing_and_a_broken_archive_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.zip"
    empty.write_bytes(_zip({}))
    with pytest.raises(PermanentError, match=r"^no text could be extracted: the ZIP archive holds no files$"):
        extract_document(path=empty, file_type="zip")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(freight_archive()[:200])
    with pytest.raises(PermanentError, match=r"^corrupt ZIP archive: not a valid zip file"):
        extract_document(path=broken, file_type="zip")
