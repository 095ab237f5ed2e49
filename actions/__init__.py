"""The action server: thin Rasa SDK classes, one module per capability."""
