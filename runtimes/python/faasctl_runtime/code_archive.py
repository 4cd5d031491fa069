"""Code that is more than one file (issue 19): a directory or an OpenWhisk-style zip, shipped
as one zip archive (the Swarm config at FAASCTL_CODE_FILE) with the entry module's path in it
(FAASCTL_CODE_MODULE). The runner that never runs user code unpacks it once into a directory
of the container's tmpfs; the function then runs there: that directory is its working
directory and first on sys.path, and its modules' __file__ are their real paths."""

import os
import shutil
import zipfile

# tmpfs /tmp is 64 MiB; the CLI refuses more than this unpacked before anything is stored.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
CODE_DIR = "/tmp/code"


class ArchiveError(Exception):
    pass


def unpack(archive_path, module, dest=CODE_DIR):
    """(entry module path, code directory) once the archive is unpacked into `dest`."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise ArchiveError("the code unpacks to more than %d bytes" % MAX_UNPACKED_BYTES)
            if os.path.isdir(dest):
                shutil.rmtree(dest)  # a second unpack in one container starts clean
            os.makedirs(dest)
            archive.extractall(dest)  # extractall drops absolute paths and `..` parts of names
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise ArchiveError("cannot unpack the function code %s: %s" % (archive_path, exc))
    code_path = os.path.join(dest, module)
    if not os.path.isfile(code_path):
        raise ArchiveError("the code has no %s" % module)
    return code_path, dest


def enter_code_dir(code_dir):
    """What a process that runs user code from a directory does before importing it."""
    import sys
    os.chdir(code_dir)
    sys.path.insert(0, code_dir)
