"""tagsim: the simulator shell around the tag's core (see docs/simulator.md)."""
