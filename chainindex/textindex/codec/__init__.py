"""The on-disk formats of a segment, one concept per module.

- :mod:`.compound`: the single file holding every part of a segment;
- :mod:`.termdict`: terms in prefix-sharing blocks with an in-memory block index;
- :mod:`.postings`: doc ids and frequencies in blocks of 128 with skip data;
- :mod:`.positions`: the positions stream of a field;
- :mod:`.storedfields`: compressed stored records;
- :mod:`.points`: sorted integer values for range queries;
- :mod:`.norms`: field lengths per document;
- :mod:`.docvalues`: one integer per document, column-wise, for sorting;
- :mod:`.livedocs`: deletions, as a bitset file per segment generation.
"""
