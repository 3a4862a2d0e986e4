"""Where ckeras's messages go: stdout while interactive logging is on (the
default), else the ``ckeras`` logger at INFO level, as Keras sends them to
absl logging. The switch itself is a setting in ``ckeras.config``."""
import logging
import sys

from ckeras import config


def print_msg(message, line_break=True):
    """Print ``message`` (progress bars, callbacks' notices, summaries)."""
    message = str(message)
    if config.is_interactive_logging_enabled():
        sys.stdout.write(message + "\n" if line_break else message)
        sys.stdout.flush()
    else:
        logging.getLogger("ckeras").info(message)
