"""Tests of the command line, one module per module of ``healthpass.cli``."""
