"""``timeseries_dataset_from_array``: sliding windows over a series."""
import numpy as np

from ckeras.utils.dataset_utils import Dataset, Loader


def _check_below_length(arg, value, data):
    if value >= len(data):
        raise ValueError(f"`{arg}` must be lower than the length of the data. "
                         f"Received: {arg}={value}, for data of length {len(data)}")


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Windows ``data[s : s + sequence_length * sampling_rate : sampling_rate]``
    for start s = 0, sequence_stride, ... (relative to ``start_index``), each
    paired with ``targets[s]`` (relative to ``start_index``) when targets are
    given. Keras's argument checks; windows are built per batch, on demand."""
    data = np.asarray(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        _check_below_length("start_index", start_index, data)
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        _check_below_length("end_index", end_index, data)
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: "
                             f"end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        _check_below_length(name, value, data)
    start_index = start_index or 0
    end_index = len(data) if end_index is None else end_index
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride)
    if len(starts) == 0:
        raise ValueError(f"No window of sequence_length={sequence_length} with "
                         f"sampling_rate={sampling_rate} fits in the {end_index - start_index} "
                         "time steps between start_index and end_index.")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)
    series = data[start_index:end_index]
    offsets = np.arange(sequence_length) * sampling_rate
    columns = [Loader(lambda idx: series[starts[idx][:, None] + offsets], len(starts))]
    if targets is not None:
        tail = targets[start_index:end_index]
        columns.append(Loader(lambda idx: tail[starts[idx]], len(starts)))
    return Dataset(columns, batch_size=batch_size, shuffle=shuffle, seed=seed,
                   order=np.arange(len(starts)))
