"""Publication: disclosure control, editions and exports of the indicator tables."""
