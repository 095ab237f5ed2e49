"""The embeddable web chat widget (static/), its demo page (demo/) and their static server (serve.py)."""
