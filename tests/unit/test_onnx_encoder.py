"""The ONNX encoder on the real model: same vectors as sentence-transformers, exported once per fingerprint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer.core.config import DEFAULT_MODEL, Settings
from indexer.core.errors import ConfigError
from indexer.embedding.embedder import resolve_model
from indexer.embedding.encoders import load_embedder
from indexer.embedding.onnx_embedder import OnnxEmbedder
from indexer.embedding.onnx_export import FP32_FILE, INT8_FILE, cache_dir, check_pipeline, onnx_file

pytestmark = pytest.mark.model

# Real product titles (ESCI, Apache-2.0), cut to 100 characters, plus the awkward cases.
TITLES = [
    'Kindle Paperwhite – Now Waterproof with 2x the Storage – Ad-Supported',
    'SharkBite U068LFA 1/2" x 3/4" FNPT Lead Free Reducing Connector, Pack of 1, Brass',
    'Spears 1436 Series PVC Tube Fitting, Adapter, Schedule 40, Gray, 1-1/2" Barbed x NPT Male',
    'Honeywell Home Wi-Fi 7-Day Programmable Thermostat (RTH6580WF), Requires C Wire, Works with Alexa (R',
    'Fire 7 Kids tablet, 7" Display, ages 3-7, 16 GB, Blue Kid-Proof Case',
    'Atomic Habits: An Easy & Proven Way to Build Good Habits & Break Bad Ones',
    'Amakunft Adjustable Cat Cone Collar Soft, Cat Recovery Collar, Cute Toast E Collar for Cats After Su',
    'HMD Baby Boy Gentleman White Shirt Bowtie Tuxedo Onesie Jumpsuit Overall Romper（0-18M） … (Blue, 60(0',
    'Bestar Pur Collection, Full Murphy Bed',
    'VIVO Single Laptop Notebook Desk Mount Stand - Fully Adjustable Extension with C Clamp (STAND-V001L)',
    'BLACK+DECKER dustbuster Handheld Vacuum, Cordless, 16V (CHV1410L)',
    '40 Yards 8 Rolls Halloween Grosgrain Ribbon Pumpkin Bat Ghost Spider Wizard Printed Ribbon Halloween',
    'Hwagui - Heat Resistant Glass Pitcher with Stainless Steel Lid, Water Carafe with Handle, Good Bever',
    'OLD NAVY Flip Flop Sandals for Woman, Great for Beach or Casual Wear (5, White)',
    'BDEUS 14 Inch Wood Slat Platform Bed Frame with Tool-Free Assembly, 100% Wooden Frame Mattress Found',
    'Elixir Strings Phosphor Bronze Acoustic Guitar Strings w NANOWEB Coating, Light/Medium (.012-.056)',
    'Vessel 930 Megadora +2x100 (JIS) +2 Screwdriver 930-2-100',
    "Too Much and Never Enough: How My Family Created the World's Most Dangerous Man",
    'DLLT 24W Modern Dimmable Led Flush Mount Ceiling Light Fixture with Remote, 13 Inch Round Close to C',
    'Coofandy Mens Formal Fashion Layered Vest Waistcoat Dress Vest, Black, Large',
    "Nike Men's Benassi Just Do It Athletic Sandal, Black, 12 D(M) US",
    'Power Your Fun Cyclone Mini RC Car for Kids - Double Sided Fast Remote Control Mini Stunt Car with L',
    'APRILSPRING Mens Walking Shoes Fashion Running Sports Non Slip Sneakers, Black and Red, 11US 45EU',
    'G GOOD GAIN Oval Picnic Basket with Folding Handles, Willow Hand Woven Shopping Basket, Bath Toy Kid',
    'Nylabone Healthy Edibles All-Natural Long Lasting Chew Treats Variety Pack 3 count Variety Pack, Roa',
    "JulyTek Red Laser Sight for Fly Salt Gun 2.0 2.5 & 3.0, Beam Sight for Bug Gun Airsoft BB Pump's Acc",
    'MAGZO Pet Proof Window Screen Replacement, 48"W x 99"L x 1/32"T Adjustable Screen for Windows&Door, ',
    'Cooks Standard Stainless Steel Multi-Ply Clad Wok, 13" with High Dome lid, Silver',
    'Felina Micro Modal Women’s Cami - Adjustable, Workout Top, Seamless Tank Top for Women (3-Pack) (Bla',
    'Just-Is Is Not Always Just-Ice | Amanda Gorman: Powerful Young Black Poet | Blank College Ruled Note',
    'Ling Stainless Steel Water Bottle Kids school Toddlers Girls Boys School Bike Holder with Straw Spor',
    'Juin Tech F1 Cable Actuated Hydraulic Bicycle Bike Disc Brake Caliper Set Extra Lightweight Hybrid B',
    "UGG Women's OH FLUFFITA Slipper, Pink Rose, 8",
    'Portable Food Warmer and Heater Lunch Bag USB Plug Waterproof Oxford Cloth Lunch Warming Tote for Of',
    "Nike Women's Air Force 1 Shadow",
    'LevvArts - 3 Panel Canvas Wall Art Black and White Forest Picture Art Prints Winter Sunrise Nature L',
]
TEXTS = [*TITLES, "", "usb c", "Ärmel café ñandú", "very long bullet point text " * 40]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, OnnxEmbedder]:
    """One real export (~20 s) into a cache directory shared by this module's tests."""
    root = tmp_path_factory.mktemp("onnx-cache")
    return root, OnnxEmbedder(DEFAULT_MODEL, cache_root=root, threads=1)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_fp32_vectors_equal_sentence_transformers(model, exported):
    _, onnx = exported
    reference = model.embed_documents(TEXTS)
    batched = onnx.embed_documents(TEXTS)  # sorted by length and batched, returned in order
    one_by_one = np.stack([onnx.embed_query(t) for t in TEXTS])
    for vectors in (batched, one_by_one):
        assert vectors.shape == reference.shape and vectors.dtype == np.float32
        assert _cosines(vectors, reference).min() >= 0.999
        assert np.abs(vectors - reference).max() < 1e-4
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_fp32_shares_the_torch_identity(model, exported):
    """Equal vectors: the embedding cache, build reuse and the vector snapshot's model check carry over."""
    _, onnx = exported
    assert (onnx.fingerprint, onnx.model_id, onnx.dims) == (model.fingerprint, model.model_id, model.dims)
    assert onnx.file.name == FP32_FILE


def test_threads_reach_onnx_runtime(exported):
    _, onnx = exported
    assert onnx._session.get_session_options().intra_op_num_threads == 1


def test_int8_is_close_and_has_its_own_fingerprint(model, exported):
    root, onnx = exported
    int8 = OnnxEmbedder(DEFAULT_MODEL, cache_root=root, int8=True, threads=1)
    assert int8.file == cache_dir(root, onnx.fingerprint) / INT8_FILE
    assert int8.fingerprint == f"{model.fingerprint}+int8"
    cosines = _cosines(int8.embed_documents(TITLES), model.embed_documents(TITLES))
    assert cosines.mean() >= 0.98, f"mean {cosines.mean():.4f}, min {cosines.min():.4f}"
    assert cosines.min() >= 0.95, f"mean {cosines.mean():.4f}, min {cosines.min():.4f}"


def _no_export(path: str, target: Path) -> None:
    raise AssertionError(f"exported {path} again")


def test_second_start_loads_the_export(exported):
    root, first = exported
    made = first.file.stat().st_mtime_ns
    again = OnnxEmbedder(DEFAULT_MODEL, cache_root=root, threads=1, export=_no_export)
    assert again.file == first.file and again.file.stat().st_mtime_ns == made
    assert np.array_equal(again.embed_documents(TITLES[:5]), first.embed_documents(TITLES[:5]))


def test_changed_model_files_export_anew(exported, tmp_path):
    """Another fingerprint (here: one more file in the model directory) gets its own export."""
    root, first = exported
    copy = tmp_path / "minilm"
    shutil.copytree(resolve_model(DEFAULT_MODEL), copy)
    (copy / "NOTICE").write_text("changed\n")
    calls: list[str] = []

    def export(path: str, target: Path) -> None:
        calls.append(path)
        shutil.copyfile(first.file, target)

    other = OnnxEmbedder(str(copy), cache_root=root, threads=1, export=export)
    assert calls == [str(copy)]
    assert other.fingerprint != first.fingerprint and other.file.parent != first.file.parent
    OnnxEmbedder(str(copy), cache_root=root, threads=1, export=export)
    assert calls == [str(copy)]  # and that one is reused in turn


def test_a_failed_export_leaves_nothing_behind(tmp_path):
    def broken(path: str, target: Path) -> None:
        target.write_bytes(b"half a model")
        raise RuntimeError("exporter died")

    with pytest.raises(ConfigError, match="RuntimeError: exporter died"):
        onnx_file("/nowhere", "m:1", tmp_path, int8=False, export=broken)
    assert not list(cache_dir(tmp_path, "m:1").iterdir())


def test_quantises_the_cached_float_file_once(tmp_path):
    made: list[str] = []

    def fake(source: str, target: Path) -> None:
        made.append(source)
        target.write_bytes(b"onnx")

    for _ in range(2):
        assert onnx_file("/nowhere", "m:1", tmp_path, int8=True, export=fake, quantize=fake).name == INT8_FILE
    assert made == ["/nowhere", str(cache_dir(tmp_path, "m:1") / FP32_FILE)]


def _pipeline(root: Path, modules: list[str], pooling: dict[str, bool]) -> Path:
    entries = [{"idx": i, "name": str(i), "path": "1_Pooling" if m == "Pooling" else "",
                "type": f"sentence_transformers.models.{m}"} for i, m in enumerate(modules)]
    (root / "1_Pooling").mkdir(parents=True)
    (root / "modules.json").write_text(json.dumps(entries))
    (root / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    return root


def test_only_mean_pooled_models_are_exported(tmp_path):
    mean = {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}
    check_pipeline(str(_pipeline(tmp_path / "ok", ["Transformer", "Pooling", "Normalize"], mean)))
    with pytest.raises(ConfigError, match="mean pooling only"):
        check_pipeline(str(_pipeline(tmp_path / "cls", ["Transformer", "Pooling"],
                                     {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})))
    with pytest.raises(ConfigError, match="Dense"):
        check_pipeline(str(_pipeline(tmp_path / "dense", ["Transformer", "Pooling", "Dense"], mean)))


def test_encoder_setting():
    assert Settings().encoder == "onnx"  # bench/encoders.py: same nDCG@10, 3x faster queries
    assert Settings.from_env({"STORESEARCH_ENCODER": "onnx-int8"}).encoder == "onnx-int8"
    with pytest.raises(ConfigError, match="STORESEARCH_ENCODER"):
        Settings.from_env({"STORESEARCH_ENCODER": "tensorrt"})


def test_the_setting_picks_the_encoder_and_its_threads(exported):
    root, first = exported
    embedder = load_embedder(Settings(cache_dir=root, encoder="onnx", torch_threads=2))
    assert isinstance(embedder, OnnxEmbedder) and embedder.file == first.file
    assert embedder._session.get_session_options().intra_op_num_threads == 2
    query_side = load_embedder(Settings(cache_dir=root, encoder="onnx", torch_threads=2), threads=1)
    assert query_side._session.get_session_options().intra_op_num_threads == 1
