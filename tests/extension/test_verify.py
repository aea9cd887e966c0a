"""`worldgraph verify` on damaged folders of all three kinds the project writes: a sim
dataset, a batch output and a curated folder (clips and shards). Each is made once by the
project's own writers, copied per test, damaged on disk and checked through the CLI."""

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from worldgraph.cli import main
from worldgraph.engines.curate import CurateConfig, curate
from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, read_manifest, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings

from ..batch.conftest import tiny_sim_spec
from ..conftest import SAMPLES

KINDS = ["dataset", "batch", "curated"]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """One clean folder of each kind, with two clips or items each."""
    base = tmp_path_factory.mktemp("verify")
    scenes = (SAMPLES / "scenes" / "tabletop_drop.usda", SAMPLES / "scenes" / "ramp_roll.usda")
    report = write_dataset(ClipJobs(SceneSet(files=scenes), ClipSettings(frames=5, width=32, height=32)),
                           base / "dataset")
    assert not report.failed, report.failed
    spec = tiny_sim_spec(base, items=2, keep=["write"])  # items hold nested files: dataset/clips/...
    assert main(["batch", str(spec), "--out", str(base / "batch"), "--workers", "1", "--json"]) == 0
    footage = SAMPLES / "videos" / "bouncing_shapes.mp4"
    curated = curate([footage], base / "curated", CurateConfig(dedup=False, clip_frames=9))
    assert len(curated.clips) >= 2 and curated.shards
    return {"dataset": base / "dataset", "batch": base / "batch", "curated": base / "curated"}


@pytest.fixture(params=KINDS)
def folder(request, made, tmp_path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(made[request.param], copy, symlinks=True)
    return copy


def lines(root: Path) -> list[str]:
    return (root / "manifest.jsonl").read_text().splitlines()


def write_lines(root: Path, text: list[str]) -> None:
    (root / "manifest.jsonl").write_text("".join(line + "\n" for line in text))


def edit_line(root: Path, n: int, change) -> dict:
    """Apply ``change`` to the record on line ``n`` (1-based); the record before the change."""
    text = lines(root)
    record = json.loads(text[n - 1])
    changed = json.loads(text[n - 1])
    change(changed)
    text[n - 1] = json.dumps(changed, sort_keys=True)
    write_lines(root, text)
    return record


def verify(root: Path, capsys) -> tuple[int, list[str]]:
    """(exit code, problems) of ``worldgraph verify --json``; the plain output agrees."""
    code = main(["verify", str(root), "--json"])
    out, err = capsys.readouterr()
    assert "internal error" not in err and "Traceback" not in err
    report = json.loads(out)
    plain = main(["verify", str(root)])
    out, err = capsys.readouterr()
    assert plain == code and err.splitlines() == report["problems"]
    assert out.startswith("ok: " if code == 0 else "damaged: ")
    return code, report["problems"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_clean_folder_is_ok(folder, capsys):
    assert verify(folder, capsys) == (0, [])


def test_a_deleted_clip_folder_is_missing(folder, capsys):
    first = json.loads(lines(folder)[0])
    shutil.rmtree(folder / "clips" / first["id"])
    code, problems = verify(folder, capsys)
    assert code == 1
    assert f"{folder / 'clips' / first['id']}: missing (manifest.jsonl line 1)" in problems


def test_a_corrupt_line_is_reported_not_dropped(folder, capsys):
    text = lines(folder)
    text[1] = text[1][: len(text[1]) // 2] + "#garbage"
    write_lines(folder, text)
    code, problems = verify(folder, capsys)
    assert code == 1 and any(p.startswith(f"{folder / 'manifest.jsonl'}: line 2: not JSON") for p in problems)


def test_a_torn_last_line_is_reported(folder, capsys):
    text = lines(folder)
    (folder / "manifest.jsonl").write_text("".join(line + "\n" for line in text[:-1]) + text[-1][:30])
    code, problems = verify(folder, capsys)
    assert code == 1
    assert any(p.startswith(f"{folder / 'manifest.jsonl'}: line {len(text)}: not JSON") and "torn" in p
               for p in problems)


def test_a_line_without_id_is_reported(folder, capsys):
    edit_line(folder, 1, lambda r: r.pop("id"))
    code, problems = verify(folder, capsys)
    assert code == 1 and f"{folder / 'manifest.jsonl'}: line 1: no 'id'" in problems


def test_a_line_without_files_is_reported(folder, capsys):
    edit_line(folder, 2, lambda r: r.pop("files"))
    code, problems = verify(folder, capsys)
    assert code == 1 and f"{folder / 'manifest.jsonl'}: line 2: no 'files'" in problems
    edit_line(folder, 2, lambda r: r.update(files=["rgb.mp4"]))
    code, problems = verify(folder, capsys)
    assert code == 1 and f"{folder / 'manifest.jsonl'}: line 2: 'files' is not a mapping" in problems


def test_an_id_leaving_the_folder_is_a_foreign_path_and_not_followed(folder, capsys):
    first = json.loads(lines(folder)[0])
    outside = folder.parent / "outside"  # a whole copy of the clip next to the folder: `../../outside`
    shutil.copytree(folder / "clips" / first["id"], outside)
    edit_line(folder, 1, lambda r: r.update(id="../../outside"))
    code, problems = verify(folder, capsys)
    assert code == 1
    assert any(p.startswith(f"{folder / 'manifest.jsonl'}: line 1: id '../../outside': foreign path")
               for p in problems)
    assert not any(str(outside) in p for p in problems), "verify must not read outside the folder"
    assert "../../outside" not in [r["id"] for r in read_manifest(folder)]  # nor do the readers


def test_an_absolute_file_name_is_a_foreign_path(folder, capsys):
    secret = folder.parent / "secret.txt"
    secret.write_text("not part of the dataset\n")
    edit_line(folder, 1, lambda r: r["files"].update({str(secret): {"sha256": sha(secret.read_bytes()),
                                                                    "bytes": secret.stat().st_size}}))
    code, problems = verify(folder, capsys)
    assert code == 1
    assert any(p.startswith(f"{folder / 'manifest.jsonl'}: line 1: file {str(secret)!r}: foreign path")
               for p in problems)
    edit_line(folder, 1, lambda r: r["files"].pop(str(secret)))
    edit_line(folder, 1, lambda r: r["files"].update({"../../../secret.txt": {"sha256": sha(secret.read_bytes())}}))
    code, problems = verify(folder, capsys)
    assert code == 1 and any("file '../../../secret.txt': foreign path" in p for p in problems)


def test_a_link_leaving_the_folder_is_a_foreign_path(folder, capsys):
    first = json.loads(lines(folder)[0])
    name = sorted(first["files"])[0]
    inside = folder / "clips" / first["id"] / name
    outside = folder.parent / "elsewhere"
    shutil.copy(inside, outside)  # the same bytes, so only the link itself is wrong
    inside.unlink()
    inside.symlink_to(outside)
    code, problems = verify(folder, capsys)
    assert code == 1 and any(p.startswith(f"{inside}: foreign path") for p in problems)


def test_duplicate_ids_and_every_problem_at_once(folder, capsys):
    text = lines(folder)
    second = json.loads(text[1])
    write_lines(folder, [text[0], text[1], text[1], "{not json", json.dumps({"files": {}}), "[1, 2]"])
    shutil.rmtree(folder / "clips" / second["id"])
    code, problems = verify(folder, capsys)
    manifest = folder / "manifest.jsonl"
    assert code == 1
    for expected in (f"{manifest}: line 3: id {second['id']!r} again (first on line 2)",
                     f"{manifest}: line 5: no 'id'", f"{manifest}: line 6: not a JSON object",
                     f"{folder / 'clips' / second['id']}: missing (manifest.jsonl line 2)"):
        assert expected in problems, (expected, problems)
    assert any(p.startswith(f"{manifest}: line 4: not JSON") for p in problems)


def test_a_changed_file_names_its_line(folder, capsys):
    first = json.loads(lines(folder)[0])
    name = sorted(first["files"])[-1]
    (folder / "clips" / first["id"] / name).write_bytes(b"tampered")
    (folder / "clips" / first["id"] / sorted(first["files"])[0]).unlink()
    code, problems = verify(folder, capsys)
    clip = folder / "clips" / first["id"]
    assert code == 1 and problems == [f"{clip / sorted(first['files'])[0]}: missing (manifest.jsonl line 1)",
                                      f"{clip / name}: checksum differs from the manifest (line 1)"]


def test_not_a_dataset_is_a_usage_error(tmp_path, capsys):
    assert main(["verify", str(tmp_path)]) == 2
    assert "not a worldgraph dataset" in capsys.readouterr().err


# ---------------------------------------------------------------------- curated shards


@pytest.fixture
def curated(made, tmp_path) -> Path:
    copy = tmp_path / "curated"
    shutil.copytree(made["curated"], copy, symlinks=True)
    return copy


def shard_of(root: Path) -> tuple[Path, list[str]]:
    first = json.loads((root / "report.json").read_text())["shards"][0]
    return root / first["path"], first["clips"]


def rewrite_shard(path: Path, change) -> None:
    """Rewrite the tar with ``change(name, data) -> (name, data) | None`` applied to each member."""
    with tarfile.open(path) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            kept = change(name, data)
            if kept:
                info = tarfile.TarInfo(kept[0])
                info.size = len(kept[1])
                tar.addfile(info, __import__("io").BytesIO(kept[1]))


def test_a_shard_whose_video_differs_from_its_clip_is_damaged(curated, capsys):
    path, keys = shard_of(curated)
    rewrite_shard(path, lambda name, data: (name, data[:-10] + b"0" * 10 if name == f"{keys[0]}.mp4" else data))
    code, problems = verify(curated, capsys)
    assert code == 1 and any(p.startswith(f"{path}: member '{keys[0]}.mp4': differs from") for p in problems)


def test_a_shard_member_leaving_the_folder_or_missing_is_reported(curated, capsys):
    path, keys = shard_of(curated)
    rewrite_shard(path, lambda name, data: ("../../evil.txt", data) if name == f"{keys[0]}.txt"
                  else None if name == f"{keys[-1]}.json" else (name, data))
    code, problems = verify(curated, capsys)
    assert code == 1
    assert any(p.startswith(f"{path}: member '../../evil.txt': foreign path") for p in problems)
    assert f"{path}: clip {keys[-1]}: no member {keys[-1]}.json" in problems


def test_a_deleted_or_unreadable_shard_is_reported(curated, capsys):
    path, keys = shard_of(curated)
    path.write_bytes(b"not a tar")
    code, problems = verify(curated, capsys)
    assert code == 1 and any(p.startswith(f"{path}: not a readable tar file") for p in problems)
    path.unlink()
    code, problems = verify(curated, capsys)
    assert code == 1 and f"{path}: missing (report.json)" in problems


def test_a_shard_path_leaving_the_folder_is_a_foreign_path(curated, capsys):
    report = json.loads((curated / "report.json").read_text())
    report["shards"][0]["path"] = "../outside.tar"
    (curated / "report.json").write_text(json.dumps(report))
    code, problems = verify(curated, capsys)
    assert code == 1
    assert any(p.startswith(f"{curated / 'report.json'}: shards[0]: path '../outside.tar': foreign path")
               for p in problems)
