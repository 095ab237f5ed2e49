"""Input channels (IVR) and speech-transcript normalisation."""
