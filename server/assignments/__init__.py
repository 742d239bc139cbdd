"""Care between sessions the therapist shapes: measurement plans and homework."""
