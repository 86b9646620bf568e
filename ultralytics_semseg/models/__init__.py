"""The task's trainer, validator and predictor, subclasses of Ultralytics' base classes."""
