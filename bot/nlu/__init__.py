"""NLU components of the pipeline (config.yml) and the text normalization they share with the phone channel."""
