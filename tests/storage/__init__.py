"""Tests of extraction/storage/, one file per module."""
