"""The ``audiences`` command line (``constructs_lib/cli``), against moto and scripted services."""
