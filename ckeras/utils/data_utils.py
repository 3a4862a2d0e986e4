"""tf.keras 2's ``keras.utils.data_utils`` (scripts still import it)."""
from ckeras.utils.file_utils import get_file, hash_file as _hash_file, validate_file  # noqa: F401
from ckeras.utils.py_dataset import PyDataset, Sequence  # noqa: F401
from ckeras.utils.sequence_utils import pad_sequences  # noqa: F401
