"""Tests of extraction/synth/, one file per module."""
