"""Event and table I/O: parquet (awkward records) with metadata, atomic writes."""
