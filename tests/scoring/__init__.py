"""Tests of extraction/scoring/, one file per module."""
