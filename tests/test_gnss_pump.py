"""The device shell's GNSS pump, in MicroPython, against a UART that behaves like the ESP32's."""

from __future__ import annotations

from corpus import CORPUS
from micropython_runner import MPY_TESTS, run_micropython

CAPTURE = CORPUS / "ublox-neo-m9n-nmea.log"  # 61 one-second epochs of a multi-GNSS receiver
FLOOR_2019 = 7037
FAKE = MPY_TESTS / "fake_machine"


def pump(baud: int, rxbuf: int, poll_ms: int) -> tuple[list[str], dict[str, str]]:
    out = run_micropython(
        script=MPY_TESTS / "gnss_pump_run.py",
        args=(str(CAPTURE), str(baud), str(rxbuf), str(poll_ms), str(FLOOR_2019)),
        path=(FAKE,),
        # the heap of an ESP32 without PSRAM: the fake machine module is compiled from source
        # here (the device imports .mpy), and at 64 KB that compile failed once the fake grew
        heap=96 * 1024,
    )
    lines = out.splitlines()
    fixes = [ln for ln in lines if ln.startswith("fix ")]
    words = lines[-2].split()  # "fixes N lost N bytes N"
    summary = dict(zip(words[0::2], words[1::2], strict=True))
    return fixes, {"counts": lines[-1], **summary}


def test_a_big_receive_buffer_loses_nothing_even_when_polled_slowly() -> None:
    fixes, info = pump(baud=9600, rxbuf=2048, poll_ms=1000)
    assert len(fixes) == 61
    assert info["lost"] == "0"
    assert "bad_checksum" not in info["counts"] and "truncated" not in info["counts"]


def test_the_default_256_byte_buffer_loses_sentences_when_polled_slowly() -> None:
    # What the README warns about: at 115200 baud 256 bytes last 22 ms.
    fixes, info = pump(baud=115200, rxbuf=256, poll_ms=100)
    assert int(info["lost"]) > 0
    assert len(fixes) < 61
    # The damage shows as counted drops, never as a crash or a made-up fix.
    assert any(k in info["counts"] for k in ("bad_checksum", "truncated", "malformed"))


def test_idle_line_closes_the_epoch_without_waiting_for_the_next_one() -> None:
    fixes, _ = pump(baud=9600, rxbuf=2048, poll_ms=50)
    assert len(fixes) == 61  # the last epoch too: closed by silence, not by a next sentence
