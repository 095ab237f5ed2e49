"""Input channels: the web (REST, socket.io) with input checks, and the phone line (IVR)."""
