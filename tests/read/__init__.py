"""Tests of extraction/read/, one file per module."""
