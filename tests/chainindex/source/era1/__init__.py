"""Tests of chainindex.source.era1."""
