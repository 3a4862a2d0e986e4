"""Callbacks: hooks into fit/evaluate/predict."""
from ckeras.callbacks.base import Callback, CallbackList
from ckeras.callbacks.csv_logger import CSVLogger
from ckeras.callbacks.early_stopping import EarlyStopping
from ckeras.callbacks.history import History
from ckeras.callbacks.lambda_callback import LambdaCallback
from ckeras.callbacks.learning_rate_scheduler import LearningRateScheduler
from ckeras.callbacks.progbar import ProgbarLogger
from ckeras.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from ckeras.callbacks.terminate_on_nan import TerminateOnNaN
from ckeras.callbacks.model_checkpoint import ModelCheckpoint
from ckeras.callbacks.backup_and_restore import BackupAndRestore
from ckeras.callbacks.remote_monitor import RemoteMonitor
from ckeras.callbacks.swap_ema_weights import SwapEMAWeights
from ckeras.callbacks.tensorboard import TensorBoard
