"""Task suites: definitions (``tasks/*.yaml``), readers for their data layouts, and the registry."""
