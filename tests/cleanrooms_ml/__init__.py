"""Tests of constructs_lib/cleanrooms_ml: the Clean Rooms ML objects and the training queue."""
