"""Reply texts, one module per language, each with the same keys."""
