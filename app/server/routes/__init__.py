"""One router module per resource of the trip API."""
