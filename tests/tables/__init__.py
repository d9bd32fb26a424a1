"""Tests of extraction/tables/, one file per module."""
