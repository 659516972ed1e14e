"""Entry point for spark-submit: `spark-submit --master URL pipelines/lake/spark_job.py LAKE [--out DIR]`.

Runs `xiangzhi lake marts LAKE --engine spark` under the master spark-submit was given. Only the
driver needs this package installed: the marts are Spark SQL, with no Python UDFs, so executors run
plain JVM tasks.
"""

import sys

from pipelines.cli import main

if __name__ == "__main__":
    sys.exit(main(["lake", "marts", *sys.argv[1:], "--engine", "spark"]))
