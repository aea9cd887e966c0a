"""engines.confine: no write or removal leaves the output root through a link, at any depth.
Real folders and real symbolic links; ``outside`` is a sibling of the root that must keep
every file it had."""

import os

import numpy as np
import pytest

from worldgraph.engines.confine import OutputRoot, OutputRootError, remove_tree
from worldgraph.engines.media.files import atomic_folder
from worldgraph.engines.media.video import write_video


@pytest.fixture
def outside(tmp_path):
    victim = tmp_path / "outside"
    (victim / "keep").mkdir(parents=True)
    (victim / "keep" / "precious.txt").write_text("mine")
    (victim / "precious.txt").write_text("mine")
    return victim


def untouched(outside) -> bool:
    return sorted(p.relative_to(outside).as_posix() for p in outside.rglob("*")) == [
        "keep", "keep/precious.txt", "precious.txt"]


@pytest.fixture
def root(tmp_path):
    (tmp_path / "out" / "a" / "b").mkdir(parents=True)
    return OutputRoot(tmp_path / "out")


@pytest.mark.parametrize("link", ["x", "a/x", "a/b/x"])
def test_a_link_out_of_the_root_is_refused_at_every_depth(root, outside, link):
    (root.root / link).symlink_to(outside)
    for p in (link, f"{link}/new.txt", f"{link}/keep/deeper/new.txt"):
        with pytest.raises(OutputRootError, match=f"{root.root / link} is a link to {outside}, outside"):
            root.path(p)
    with pytest.raises(OutputRootError):
        root.folder(f"{link}/made")
    assert untouched(outside)


def test_a_dangling_link_out_of_the_root_is_refused_and_nothing_is_created(root, tmp_path):
    (root.root / "a" / "gone").symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputRootError, match=r"a/gone is a link to .*nowhere \(missing\), outside"):
        root.folder("a/gone/clips")
    assert not (tmp_path / "nowhere").exists()


def test_links_that_stay_inside_are_followed(root):
    (root.root / "a" / "b" / "real").mkdir()
    (root.root / "short").symlink_to(root.root / "a" / "b")
    (root.root / "a" / "dangling").symlink_to(root.root / "a" / "later")
    assert root.path("short/real/f.txt") == root.root / "a" / "b" / "real" / "f.txt"
    assert root.folder("a/dangling/clips") == root.root / "a" / "later" / "clips"
    assert root.path("a/../a/b") == root.root / "a" / "b"


def test_climbing_out_and_loops_are_refused(root):
    with pytest.raises(OutputRootError, match="leaves the output folder"):
        root.path("a/../../x")
    with pytest.raises(OutputRootError, match="not inside the output folder"):
        root.path(root.root.parent / "x")
    (root.root / "loop").symlink_to(root.root / "loop")
    with pytest.raises(OutputRootError, match="loops back on itself"):
        root.path("loop/x")


def test_removal_never_follows_a_link(root, outside, tmp_path):
    folder = root.root / "a" / "b"
    (folder / "file.txt").write_text("ours")
    (folder / "evil").symlink_to(outside)  # a link inside the folder removed
    (folder / "dangling").symlink_to(tmp_path / "nowhere")
    (root.root / "a" / "link").symlink_to(outside)  # a link removed itself
    root.remove("a/link")
    assert not os.path.lexists(root.root / "a" / "link") and untouched(outside)
    root.remove(folder)
    assert not os.path.lexists(folder) and untouched(outside)
    root.remove("a/b")  # missing: nothing
    (root.root / "up").symlink_to(outside)
    with pytest.raises(OutputRootError, match="is a link to"):  # a parent that leads out: refused
        root.remove("up/keep")
    root.remove("up/keep", ignore_errors=True)
    assert untouched(outside)
    with pytest.raises(OutputRootError, match="names no entry"):
        root.remove(".")


def test_remove_tree_unlinks_links_and_spares_their_targets(tmp_path, outside):
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "evil").symlink_to(outside)
    (tree / "top").symlink_to(outside)
    remove_tree(tree)
    assert not tree.exists() and untouched(outside)
    link = tmp_path / "link"
    link.symlink_to(outside)
    remove_tree(link)
    assert not os.path.lexists(link) and untouched(outside)


def test_re_saving_png_frames_with_a_link_inside_spares_its_target(tmp_path, outside):
    frames = np.zeros((2, 8, 8, 3), np.uint8)
    folder = write_video(tmp_path / "frames", frames, 4)
    (folder / "evil").symlink_to(outside)
    (folder / "deeper").mkdir()
    (folder / "deeper" / "evil").symlink_to(outside)
    write_video(folder, frames, 4)
    assert sorted(p.name for p in folder.iterdir()) == ["frame_00000.png", "frame_00001.png"]
    assert untouched(outside) and sorted(p.name for p in tmp_path.iterdir()) == ["frames", "outside"]


def test_a_folder_output_that_is_a_link_is_replaced_not_followed(tmp_path, outside):
    (tmp_path / "frames").symlink_to(outside)
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    for name in ("frames", "gone"):
        with atomic_folder(tmp_path / name) as tmp:
            (tmp / "f.txt").write_text("new")
        assert not (tmp_path / name).is_symlink() and (tmp_path / name / "f.txt").is_file()
    assert untouched(outside) and not (tmp_path / "nowhere").exists()


def test_one_run_at_a_time_holds_a_root(root):
    second = OutputRoot(root.root)
    with root.exclusive(), pytest.raises(OutputRootError, match=f"another run is writing {root.root}"), \
            second.exclusive():
        pass
    with OutputRoot(root.root).exclusive():  # released when the first run ends
        pass
