"""Results, export hooks and the inference setup shared by the validator and the predictor."""
