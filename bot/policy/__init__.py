"""Pure rules: password rules, card-number parsing, dates, phones."""
