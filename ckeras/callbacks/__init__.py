"""Callbacks: hooks into fit/evaluate/predict."""
import os as _os

from ckeras.callbacks.base import Callback, CallbackList
from ckeras.callbacks.csv_logger import CSVLogger
from ckeras.callbacks.early_stopping import EarlyStopping
from ckeras.callbacks.history import History
from ckeras.callbacks.lambda_callback import LambdaCallback
from ckeras.callbacks.learning_rate_scheduler import LearningRateScheduler
from ckeras.callbacks.progbar import ProgbarLogger
from ckeras.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from ckeras.callbacks.terminate_on_nan import TerminateOnNaN

# A colleague's module; imported only once it exists.
if _os.path.exists(_os.path.join(_os.path.dirname(__file__), "model_checkpoint.py")):
    from ckeras.callbacks.model_checkpoint import ModelCheckpoint  # noqa: F401
