"""Chain indexing: sources, the LevelDB store, the section indexer and the query path."""
