"""Progress: tqdm's bar on a terminal, a plain line now and then in a batch job's log, nothing when hidden."""

import io

from skcardio.cli._progress import progress


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_log_gets_a_line_per_interval_not_per_item():
    clock, log = _Clock(), io.StringIO()
    bar = progress(total=1000, unit="slice", desc="predict", stream=log, interval=60, clock=clock)
    for _ in range(1000):
        clock.now += 0.25  # 4 slices a second: 250 s in all
        bar.update()
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 4  # at 60, 120, 180 and 240 s; never "\r"
    assert "\r" not in log.getvalue()
    assert lines[0] == "predict: 240/1000 slice(s) (24 %) in 0:01:00, 4.0 slice(s)/s, about 0:03:10 left"


def test_a_short_run_writes_nothing_and_the_postfix_names_the_last_item():
    clock, log = _Clock(), io.StringIO()
    with progress(total=3, unit="patient", desc="report", stream=log, clock=clock) as bar:
        bar.set_postfix_str("P1")
        clock.now = 5
        bar.update()
    assert log.getvalue() == ""  # shorter than the interval: no line, as the summary follows
    with progress(total=3, unit="patient", desc="report", stream=log, interval=1, clock=clock) as bar:
        bar.set_postfix_str("P\x1b2")
        clock.now = 90
        bar.update()
    assert log.getvalue() == ("report: 1/3 patient(s) (33 %) in 0:01:25, 85.0 s/patient, about 0:02:50 left "
                              "(last: P\\x1b2)\n")


def test_a_terminal_gets_tqdms_bar_and_hidden_gets_nothing():
    terminal = _Terminal()
    with progress(total=2, unit="fold", desc="evaluate", stream=terminal) as bar:
        bar.update(2)
    assert "evaluate" in terminal.getvalue() and "\r" in terminal.getvalue()
    log = io.StringIO()
    with progress(total=2, unit="fold", desc="evaluate", stream=log, hidden=True, interval=0) as bar:
        bar.update(2)
    assert log.getvalue() == ""
