"""Help-desk deflection report: what citizens ask and what the assistant solved, from the tracker store."""
