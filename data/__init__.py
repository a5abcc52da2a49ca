"""The curated timeline, in the project's own event format (bundled as tariffs.data)."""
