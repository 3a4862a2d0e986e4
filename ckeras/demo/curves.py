"""Save a History as a PNG (matplotlib) or, without matplotlib, as CSV."""


def save_learning_curve(history, stem):
    """Returns a description of where the curve went."""
    from ckeras.utils import plotting
    try:
        plotting.plot_history(history, stem + ".png")
        return stem + ".png"
    except ImportError:
        plotting.history_to_csv(history, stem + ".csv")
        return stem + ".csv (pip install matplotlib for a PNG)"
