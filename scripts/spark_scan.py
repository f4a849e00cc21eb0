"""The `provenance` command as a Python file, for `spark-submit` (which runs `.py` files only):

    spark-submit [spark options] scripts/spark_scan.py scan PATH... --engine spark --output-dir DIR

The master, executors and memory come from spark-submit's options; `--spark-master` is then not needed.
"""

from provenance.cli import main

if __name__ == "__main__":
    main()
