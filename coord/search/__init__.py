"""Search across a département's records: one box, full-text with French stemming and accent folding."""
