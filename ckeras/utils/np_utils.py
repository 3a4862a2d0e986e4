"""tf.keras 2's ``keras.utils.np_utils`` (scripts still import it)."""
from ckeras.utils.numerical_utils import normalize  # noqa: F401
from ckeras.utils.sequence_utils import to_categorical  # noqa: F401
