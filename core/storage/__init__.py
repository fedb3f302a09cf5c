"""Safe bytes on disk: bounded reads of user files (regular files only), checked JSON,
atomic writes that tidy up after killed saves, and file locks."""
