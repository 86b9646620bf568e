"""`python -m ultralytics_semseg ...` runs the `yolo` command line with the semseg task registered."""

from ultralytics_semseg.cli import main

main()
