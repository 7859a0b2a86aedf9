"""`trip demo`: a rich demo trip (seeded through the SDK), companions that keep it alive, and
the same trip as fixed data for screenshots and snapshot tests."""
