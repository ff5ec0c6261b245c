"""Download the real suites' official archives (``impact-bench data get``).

- :mod:`.sources`: which records and files make up each suite, where each unpacks, and citations;
- :mod:`.remote`: the records' own metadata (Zenodo and Dataverse APIs) → URLs, sizes, checksums, licences;
- :mod:`.download`: resumable (HTTP Range) streaming with the checksum computed on the fly;
- :mod:`.unpack`: extraction that refuses members landing outside the target;
- :mod:`.manifest`: what was fetched, from where, when, with which checksum;
- :mod:`.get`: the whole plan → licences → disk check → fetch → unpack → manifest sequence.

Layer 1: nothing here imports the pipeline or the CLI.
"""
