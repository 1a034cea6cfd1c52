"""The foundation: configuration, errors, logging and clients. Imports nothing above it."""
