"""tf.keras 2's ``keras.utils.vis_utils`` (scripts still import it)."""
from ckeras.utils.plot_model import plot_model  # noqa: F401
