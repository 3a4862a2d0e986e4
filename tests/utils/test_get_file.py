"""utils.get_file: cache paths (Keras 3's names), hashes, forced downloads,
and safe extraction of tar/zip archives."""
import hashlib
import io
import os
import tarfile
import warnings
import zipfile

import numpy as np
import pytest

from ckeras import utils
from ckeras.utils import file_utils

URL = "https://example.org/files/"


def tar_bytes(members, mode="w:gz"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def file_member(name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def link_member(name, target, hard=False):
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info, None


def test_plain_file_default_name_and_cache(keras_home, origin):
    sha = origin.put("weights.bin", b"abc")
    path = utils.get_file(origin=URL + "weights.bin", file_hash=sha)
    assert path == str(keras_home / "datasets" / "weights.bin")
    assert open(path, "rb").read() == b"abc"
    assert utils.get_file("weights.bin", URL + "weights.bin") == path
    assert len(origin.requested) == 1


def test_cache_dir_and_subdir(tmp_path, origin):
    origin.put("a.txt", b"x")
    path = utils.get_file("a.txt", URL + "a.txt", cache_dir=str(tmp_path / "c"),
                          cache_subdir="models")
    assert path == str(tmp_path / "c" / "models" / "a.txt")


@pytest.mark.parametrize("algo", ["md5", "sha256"])
def test_hash_algorithms(keras_home, origin, algo):
    origin.put("f.bin", b"payload")
    digest = getattr(hashlib, algo)(b"payload").hexdigest()
    assert utils.get_file("f.bin", URL + "f.bin", file_hash=digest)  # auto by length
    os.remove(keras_home / "datasets" / "f.bin")
    assert utils.get_file("f.bin", URL + "f.bin", file_hash=digest, hash_algorithm=algo)
    with pytest.raises(ValueError, match="corrupted"):
        utils.get_file("g.bin", URL + "f.bin", file_hash="0" * len(digest), hash_algorithm=algo)
    assert not (keras_home / "datasets" / "g.bin").exists()
    assert [f for f in os.listdir(keras_home / "datasets") if f.endswith(".part")] == []


def test_md5_hash_argument(keras_home, origin):
    origin.put("f.bin", b"payload")
    utils.get_file("f.bin", URL + "f.bin", md5_hash=hashlib.md5(b"payload").hexdigest())


def test_force_download_refreshes(keras_home, origin):
    origin.put("f.bin", b"old")
    path = utils.get_file("f.bin", URL + "f.bin")
    origin.put("f.bin", b"new")
    assert open(utils.get_file("f.bin", URL + "f.bin"), "rb").read() == b"old"
    assert open(utils.get_file("f.bin", URL + "f.bin", force_download=True), "rb").read() == b"new"
    assert len(origin.requested) == 2 and os.path.exists(path)


def test_http_error_leaves_no_file(keras_home, origin):
    with pytest.raises(ConnectionError, match="missing.bin"):
        utils.get_file("missing.bin", URL + "missing.bin")
    assert os.listdir(keras_home / "datasets") == []


def test_truncated_download_leaves_no_file(keras_home, monkeypatch):
    class Short(io.BytesIO):
        headers = {"Content-Length": "100"}

        def read(self, n=-1):
            data = super().read(n)
            if not data:
                import http.client
                raise http.client.IncompleteRead(b"", 90)
            return data

        def __enter__(self):
            return self

        def __exit__(self, *a):
            pass
    monkeypatch.setattr(file_utils.urllib.request, "urlopen", lambda *a, **k: Short(b"x" * 10))
    with pytest.raises(ConnectionError, match="IncompleteRead|incomplete"):
        utils.get_file("big.bin", URL + "big.bin")
    assert os.listdir(keras_home / "datasets") == []


def test_bad_arguments():
    with pytest.raises(ValueError, match="origin"):
        utils.get_file("x")
    with pytest.raises(ValueError, match="cache_dir"):
        utils.get_file("a/b", URL + "b")


# ---- extraction ---------------------------------------------------------------------------

def test_extract_tar_gz_keras3_names(keras_home, origin):
    data = tar_bytes([file_member("flowers/daisy/1.txt", b"d"),
                      file_member("flowers/rose.txt", b"r")])
    origin.put("flowers.tgz", data)
    # fname with a dot: archive kept under its name, extracted to <stem>_extracted
    path = utils.get_file("flowers.tgz", URL + "flowers.tgz", extract=True)
    assert path == str(keras_home / "datasets" / "flowers_extracted")
    assert open(os.path.join(path, "flowers", "daisy", "1.txt"), "rb").read() == b"d"
    assert (keras_home / "datasets" / "flowers.tgz").is_file()
    # fname without a dot: extracted to <fname>, archive kept as <fname>_archive
    path = utils.get_file("flower_photos", URL + "flowers.tgz", untar=True)
    assert path == str(keras_home / "datasets" / "flower_photos")
    assert (keras_home / "datasets" / "flower_photos_archive").is_file()
    assert os.path.isfile(os.path.join(path, "flowers", "rose.txt"))


def test_extract_zip(keras_home, origin):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("d/a.csv", "1,2\n")
    origin.put("d.zip", buf.getvalue())
    path = utils.get_file("d.zip", URL + "d.zip", extract=True)
    assert open(os.path.join(path, "d", "a.csv")).read() == "1,2\n"


def test_tar_traversal_and_escaping_links_are_skipped(tmp_path):
    data = tar_bytes([file_member("ok/a.txt", b"a"),
                      file_member("../evil.txt", b"e"),
                      file_member("/abs_evil.txt", b"e"),
                      link_member("ok/link_out", "../../outside"),
                      link_member("ok/abs_link", "/etc/passwd"),
                      link_member("ok/hard_out", "../x", hard=True),
                      link_member("ok/link_in", "a.txt")])
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(data)
    dest = tmp_path / "sub" / "dest"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert file_utils.extract_archive(str(archive), str(dest))
    skipped = " ".join(str(w.message) for w in caught)
    for name in ("../evil.txt", "/abs_evil.txt", "link_out", "abs_link", "hard_out"):
        assert name in skipped
    assert sorted(os.listdir(dest / "ok")) == ["a.txt", "link_in"]
    assert not (tmp_path / "sub" / "evil.txt").exists()
    assert not (tmp_path / "evil.txt").exists()
    assert os.listdir(tmp_path / "sub") == ["dest"]  # no temporary folder left


def test_zip_traversal_is_skipped(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../evil.txt", "e")
        z.writestr("good.txt", "g")
    archive = tmp_path / "a.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.warns(UserWarning, match="evil"):
        file_utils.extract_archive(str(archive), str(tmp_path / "out"))
    assert os.listdir(tmp_path / "out") == ["good.txt"]
    assert not (tmp_path / "evil.txt").exists()


def test_not_an_archive_warns(keras_home, origin):
    origin.put("plain.txt", b"hello")
    with pytest.warns(UserWarning, match="Could not extract"):
        utils.get_file("plain.txt", URL + "plain.txt", extract=True)


def test_normalize_matches_definition(rng):
    x = rng.normal(size=(4, 3))
    x[1] = 0
    for axis, order in ((-1, 2), (0, 2), (1, 1)):
        got = utils.normalize(x, axis=axis, order=order)
        norm = np.linalg.norm(x, order, axis=axis, keepdims=True)
        np.testing.assert_allclose(got, x / np.where(norm == 0, 1, norm))
    with pytest.raises(ValueError, match="dtype"):
        utils.normalize(np.array(["a"]))


def test_tf_keras2_module_paths():
    from ckeras.utils import data_utils, np_utils, vis_utils
    from ckeras.preprocessing import sequence, text
    assert np_utils.to_categorical([0, 2]).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert np_utils.normalize is utils.normalize
    assert data_utils.get_file is utils.get_file and data_utils.Sequence is utils.Sequence
    assert callable(vis_utils.plot_model) and callable(sequence.pad_sequences)
    assert hasattr(text, "Tokenizer")
    import ckeras
    assert ckeras.preprocessing.sequence is sequence
