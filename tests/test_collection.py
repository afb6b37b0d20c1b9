"""The chapter collection in ``conftest.py``: concurrent conversion never exposes a torn file.

Every xdist worker converts every chapter; CI once saw one worker read the notebook while
another had truncated it. ``_write_if_changed`` renames a finished file into place.
"""

import multiprocessing as mp

from conftest import _write_if_changed

VERSIONS = ['{"cells": [], "version": "a"}\n', '{"cells": [' + "{}, " * 5000 + '{}], "version": "b"}\n']


def _rewrite(path, rounds):
    for i in range(rounds):
        _write_if_changed(path, VERSIONS[i % 2])


def test_readers_see_whole_versions_while_another_process_rewrites(tmp_path):
    path = tmp_path / "nbval" / "chapter.ipynb"
    _write_if_changed(path, VERSIONS[0])
    writer = mp.get_context("fork").Process(target=_rewrite, args=(path, 2000))
    writer.start()
    seen = set()
    while writer.is_alive():
        seen.add(path.read_text())
    writer.join()
    assert writer.exitcode == 0
    assert seen <= set(VERSIONS), "a reader saw a partly written notebook"
    assert list(path.parent.glob("*.tmp")) == []


def test_an_unchanged_notebook_is_not_rewritten(tmp_path):
    path = tmp_path / "chapter.ipynb"
    _write_if_changed(path, VERSIONS[0])
    before = path.stat().st_mtime_ns
    inode = path.stat().st_ino
    _write_if_changed(path, VERSIONS[0])
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == (before, inode)
    _write_if_changed(path, VERSIONS[1])
    assert path.read_text() == VERSIONS[1]
