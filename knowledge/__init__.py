"""The published catalogues: loading, validating, matching questions to items. Pure; loaded once."""
