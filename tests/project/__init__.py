"""The project around the library: example app, CI example, packaging, benchmarks."""
