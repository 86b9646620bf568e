"""The semseg model, its decoder head and its loss."""
