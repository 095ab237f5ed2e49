"""Account backend: citizens, accounts, Carte Accès cards and families behind `AccountBackend`."""
