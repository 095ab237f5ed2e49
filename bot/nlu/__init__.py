"""NLU components of the pipeline (config.yml) and the text normalisation they share with the phone channel."""
