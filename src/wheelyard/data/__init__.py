"""The data model: one module per table, as the course lays it out."""
