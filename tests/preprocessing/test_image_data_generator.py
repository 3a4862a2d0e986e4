"""ImageDataGenerator against golden outputs of Keras's own implementation
(tests/data/image_generator, made by make_golden.py), plus its file
iterators feeding fit."""
import json
import os

import numpy as np
import pytest

pytest.importorskip("PIL.Image")
pytest.importorskip("scipy.ndimage")

import ckeras as keras  # noqa: E402
from ckeras import layers  # noqa: E402
from ckeras.preprocessing.image import ImageDataGenerator, save_img  # noqa: E402

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "data", "image_generator", "golden.npz")
RANDOM = {"rotation_range": 40, "width_shift_range": 0.2, "height_shift_range": [1, 2, 3],
          "shear_range": 0.2, "zoom_range": 0.2, "horizontal_flip": True,
          "vertical_flip": True, "channel_shift_range": 5.0, "brightness_range": [0.5, 1.5],
          "fill_mode": "nearest"}
CASES = [
    ("rotate", {"fill_mode": "nearest"}, {"theta": 30}),
    ("shift", {"fill_mode": "constant", "cval": 7.0}, {"tx": 2.0, "ty": -3.0}),
    ("shear", {"fill_mode": "reflect"}, {"shear": 20}),
    ("zoom", {"fill_mode": "wrap"}, {"zx": 0.8, "zy": 1.3}),
    ("all", {"fill_mode": "nearest", "interpolation_order": 3},
     {"theta": -15, "tx": 1.0, "ty": 2.0, "shear": 10, "zx": 1.1, "zy": 0.9,
      "flip_horizontal": True, "flip_vertical": True, "channel_shift_intensity": 20.0}),
    ("brightness", {}, {"brightness": 1.4}),
    ("channels_first", {"data_format": "channels_first"}, {"theta": 45, "tx": 1.0}),
]


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN) as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("name,kwargs,params", CASES, ids=[c[0] for c in CASES])
def test_apply_transform_matches_keras(golden, name, kwargs, params):
    x = golden["image"]
    if kwargs.get("data_format") == "channels_first":
        x = x.transpose(2, 0, 1)
    got = ImageDataGenerator(**kwargs).apply_transform(x.copy(), params)
    np.testing.assert_allclose(got, golden[name], rtol=1e-5, atol=1e-3)


def test_random_parameters_match_keras(golden):
    gen = ImageDataGenerator(**RANDOM)
    for seed, expected in json.loads(str(golden["random_params"])).items():
        got = gen.get_random_transform((9, 11, 3), seed=int(seed))
        assert {k: None if v is None else float(v) for k, v in got.items()} == \
            pytest.approx(expected)


def test_seeded_flow_matches_keras(golden):
    it = ImageDataGenerator(rescale=1 / 255.0, **RANDOM).flow(
        golden["flow_images"], np.arange(5), batch_size=2, seed=42, shuffle=True)
    assert len(it) == 3
    for i in range(3):
        bx, by = it[i]
        np.testing.assert_array_equal(by, golden[f"flow_y{i}"])
        np.testing.assert_allclose(bx, golden[f"flow_x{i}"], rtol=1e-5, atol=1e-4)


def test_fit_statistics_match_keras(golden):
    images = golden["flow_images"]
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    gen.fit(images)
    np.testing.assert_allclose(gen.mean, golden["fit_mean"], rtol=1e-5)
    np.testing.assert_allclose(gen.std, golden["fit_std"], rtol=1e-5)
    np.testing.assert_allclose(gen.standardize(images[0].copy()), golden["fit_standardized"],
                               rtol=1e-4, atol=1e-4)
    with pytest.warns(UserWarning, match="zca_whitening"):
        gen = ImageDataGenerator(zca_whitening=True)
    gen.fit(images[:, :3, :3])
    np.testing.assert_allclose(gen.zca_whitening_matrix, golden["zca_matrix"], rtol=1e-3,
                               atol=1e-4)


def test_flow_validation_split_and_fit(rng):
    x = rng.uniform(0, 255, (20, 8, 8, 3)).astype(np.float32)
    y = np.tile([0, 1], 10)
    gen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True, validation_split=0.25)
    train = gen.flow(x, y, batch_size=4, subset="training")
    val = gen.flow(x, y, batch_size=4, subset="validation")
    assert train.n == 15 and val.n == 5  # validation: the first fraction (Keras)
    np.testing.assert_array_equal(val.x, x[:5])
    bx, by = next(train)
    assert bx.shape == (4, 8, 8, 3) and bx.max() <= 1.0
    model = keras.Sequential([keras.Input((8, 8, 3)), layers.Flatten(),
                              layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(h.history["val_loss"]) == 2
    with pytest.raises(ValueError, match="different number of classes"):
        gen.flow(x, np.sort(y), subset="training")


@pytest.fixture
def class_folders(tmp_path):
    for k, name in enumerate(["cats", "dogs"]):
        (tmp_path / name).mkdir()
        for i in range(4 + k):
            save_img(tmp_path / name / f"{i}.png",
                     np.full((6, 5, 3), 40.0 + 100 * k + i), scale=False)
    (tmp_path / "dogs" / "readme.txt").write_text("x")
    return tmp_path


def test_flow_from_directory(class_folders, capsys):
    gen = ImageDataGenerator(rescale=1 / 255.0, validation_split=0.5)
    it = gen.flow_from_directory(class_folders, target_size=(4, 4), batch_size=3,
                                 shuffle=False)
    assert "Found 9 images belonging to 2 classes." in capsys.readouterr().out
    assert it.class_indices == {"cats": 0, "dogs": 1}
    assert it.filenames[:2] == [os.path.join("cats", "0.png"), os.path.join("cats", "1.png")]
    assert it.classes.tolist() == [0] * 4 + [1] * 5 and len(it) == 3
    bx, by = it[0]
    assert bx.shape == (3, 4, 4, 3) and by.shape == (3, 2)
    np.testing.assert_allclose(bx[1], 41 / 255.0, rtol=1e-6)
    val = gen.flow_from_directory(class_folders, target_size=(4, 4), subset="validation",
                                  class_mode="binary")
    assert val.samples == 4 and val.filenames[0] == os.path.join("cats", "0.png")
    train = gen.flow_from_directory(class_folders, target_size=(4, 4), subset="training",
                                    class_mode="sparse", color_mode="grayscale", batch_size=2)
    assert train.samples == 5 and train.image_shape == (4, 4, 1)
    model = keras.Sequential([keras.Input((4, 4, 1)), layers.Flatten(),
                              layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(train, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="class_mode"):
        gen.flow_from_directory(class_folders, class_mode="multi")


def test_flow_from_dataframe(class_folders):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"file": ["cats/0.png", "dogs/1.png", "dogs/missing.png", "cats/2.png"],
                       "label": ["cat", "dog", "dog", "cat"], "w": [1.0, 2.0, 3.0, 4.0]})
    gen = ImageDataGenerator()
    with pytest.warns(UserWarning, match="1 invalid image filename"):
        it = gen.flow_from_dataframe(df, directory=str(class_folders), x_col="file",
                                     y_col="label", weight_col="w", target_size=(3, 3),
                                     shuffle=False, batch_size=3)
    assert it.class_indices == {"cat": 0, "dog": 1} and it.samples == 3
    bx, by, bw = it[0]
    assert by.tolist() == [[1, 0], [0, 1], [1, 0]] and bw.tolist() == [1.0, 2.0, 4.0]
    np.testing.assert_allclose(bx[1], 141.0)
    raw = gen.flow_from_dataframe(df.iloc[[0, 1]].assign(v=[0.5, 1.5]),
                                  directory=str(class_folders), x_col="file", y_col="v",
                                  class_mode="raw", target_size=(3, 3), shuffle=False)
    assert raw[0][1].tolist() == [0.5, 1.5]
    with pytest.raises(TypeError, match="strings"):
        gen.flow_from_dataframe(df.assign(label=[1, 2, 3, 4]), x_col="file", y_col="label",
                                class_mode="sparse")


def test_bad_arguments():
    with pytest.raises(ValueError, match="zoom_range"):
        ImageDataGenerator(zoom_range=(1, 2, 3))
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="fill_mode"):
        ImageDataGenerator(fill_mode="mirror")
    with pytest.raises(ValueError, match="rank 4"):
        ImageDataGenerator().flow(np.zeros((3, 4, 4)))
