"""Telling therapists, by mail, that a patient on their caseload needs attention."""
