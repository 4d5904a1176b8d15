"""A Lucene-style inverted index over decoded logs (filled in layer by layer)."""
