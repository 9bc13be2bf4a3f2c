"""The REST API for the agency's other systems: keys, drafts, delivery status, the directory, status callbacks."""
