"""Tests of extraction/model/, one file per module."""
