# The tag's device shell (ESP32 only): hardware in, core calls, actions out.
