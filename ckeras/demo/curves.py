"""Save a History as a PNG (matplotlib) or, without matplotlib, as CSV."""


def save_learning_curve(history, stem):
    from ckeras.utils import plotting
    try:
        return plotting.plot_history(history, stem + ".png")
    except ImportError:
        path = stem + ".csv"
        plotting.history_to_csv(history, path)
        return path + " (install matplotlib for a PNG)"
