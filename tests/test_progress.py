"""Progress: a bar on a terminal, a few plain lines in a log file (no carriage returns)."""

from __future__ import annotations

import io

from ganaug import progress as progress_module
from ganaug.progress import LineProgress, progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_file_gets_a_line_every_few_percent_and_no_carriage_returns():
    log = io.StringIO()
    bar = progress(2000, desc="train", unit="step", stream=log)
    assert isinstance(bar, LineProgress)
    for step in range(2000):
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(loss_d="1.234", refresh=False)
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) == 20  # every 5%; the last one at 100%, so close adds none
    assert lines[0].startswith("train: 100/2000 step (5%), 0:00 elapsed, about ") and "loss_d=1.234" in lines[0]
    assert lines[-1].startswith("train: 2000/2000 step (100%)") and "left" not in lines[-1]


def test_a_slow_loop_gets_a_line_every_30_seconds(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    log = io.StringIO()
    bar = LineProgress(1000, desc="gain", unit="run", stream=log)
    for _ in range(10):  # 1% each, 40 s apart: under 5% each time, but 30 s have passed
        clock[0] += 40
        bar.update(10)
    assert len(log.getvalue().splitlines()) == 10
    assert log.getvalue().splitlines()[-1].startswith("gain: 100/1000 run (10%), 6:40 elapsed, about 1:00:00 left")


def test_a_terminal_gets_tqdm_unless_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    bar = progress(10, stream=_Terminal())
    assert not isinstance(bar, LineProgress)
    bar.close()
    monkeypatch.setenv("CI", "true")
    assert isinstance(progress(10, stream=_Terminal()), LineProgress)


def test_reset_and_close_write_what_is_left():
    log = io.StringIO()
    bar = LineProgress(100, desc="train", unit="step", initial=40, stream=log)
    bar.update(2)
    bar.reset(total=100)
    bar.update(3)
    bar.close()
    bar.close()
    assert log.getvalue().splitlines() == [log.getvalue().splitlines()[0]]
    assert log.getvalue().startswith("train: 3/100 step (3%)")
