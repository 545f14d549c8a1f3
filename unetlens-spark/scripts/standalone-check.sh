#!/usr/bin/env bash
# The README's cluster command lines, run for real: a Spark standalone master and one worker as processes of their
# own, started as the distribution's sbin/start-master.sh and sbin/start-worker.sh start them, then spark-submit with
# the shaded jar on the bundled tiny model over a few generated images; the tables and results.json must equal a
# local[2] run's (scripts/CompareRuns.java). Everything it starts is stopped when it ends, however it ends.
#
#   unetlens-spark/scripts/standalone-check.sh [WORKDIR]     (default: a new temporary folder, removed at the end)
#
# No Spark distribution is needed: what its scripts run is in Spark's jars. A temporary SPARK_HOME gets Spark's jars
# (spark-core and spark-sql from Maven, as the distribution's jars/ has them) and this script does what
# bin/spark-class does: org.apache.spark.launcher.Main prints the java command line, which is run. Ports are the
# system's free ones (--port 0), the master's REST server is off. Needs the shaded jar (built here when missing:
# mvn -DskipTests package) and Maven for Spark's jars (from ~/.m2 when there).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/unetlens-spark/scripts"
export JAVA_HOME="${JAVA_HOME:-$(ls -d /usr/lib/jvm/temurin-25* | head -1)}"
export OPT_OUT_TRACKING=true
IMAGES=4

if [ -n "${1:-}" ]; then
  WORK="$(mkdir -p "$1" && cd "$1" && pwd)"
  KEEP=1
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/standalone-check.XXXXXX")"
  KEEP=0
fi
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
  [ "$KEEP" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "standalone-check: $*" >&2; }

JAR="$ROOT/unetlens-spark/target/unetlens-spark-cluster.jar"
if [ ! -f "$JAR" ]; then
  say "building the shaded jar (mvn -DskipTests package) …"
  mvn -q -B -f "$ROOT/pom.xml" -pl unetlens-spark -am -DskipTests package >&2
fi

# A SPARK_HOME with the distribution's jars/ (Spark's own dependencies, not unetlens'), and what load-spark-env.sh sets.
SPARK_VERSION="$(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' "$ROOT/unetlens-spark/pom.xml")"
export SPARK_HOME="$WORK/spark-home" SPARK_SCALA_VERSION=2.13
mkdir -p "$SPARK_HOME/jars"
cat > "$WORK/spark-jars.pom" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>spark-jars</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-core_2.13</artifactId><version>$SPARK_VERSION</version></dependency>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-sql_2.13</artifactId><version>$SPARK_VERSION</version></dependency>
  </dependencies>
</project>
EOF
say "Spark $SPARK_VERSION's jars into $SPARK_HOME/jars …"
mvn -q -B -f "$WORK/spark-jars.pom" dependency:copy-dependencies -DoutputDirectory="$SPARK_HOME/jars" >&2

# bin/spark-class: the launcher prints a NUL line, then the command NUL-separated, then its exit status.
spark_class() {
  local cmd=() started=false delim=$'\n' arg
  while IFS= read -d "$delim" -r arg; do
    if [ "$started" = true ]; then
      cmd+=("$arg")
    elif [ -z "$arg" ] || [ "$arg" = $'\0' ]; then
      delim=''
      started=true
    fi
  done < <("$JAVA_HOME/bin/java" -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main "$@"; printf '%d\0' $?)
  local rc="${cmd[${#cmd[@]}-1]}"
  unset 'cmd[${#cmd[@]}-1]'
  [ "$rc" = 0 ] || { say "Spark's launcher failed ($rc) for $1"; return 1; }
  exec "${cmd[@]}"
}

# wait_for LOG PATTERN WHAT: the first match of PATTERN in LOG, within 120 s.
wait_for() {
  local line
  for _ in $(seq 600); do
    line="$(grep -o -m1 -E "$2" "$1" || true)"
    if [ -n "$line" ]; then echo "$line"; return 0; fi
    sleep 0.2
  done
  say "error: no $3 after 120 s; its log:"
  tail -30 "$1" >&2
  return 1
}

T0=$SECONDS
export SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false"
export SPARK_WORKER_DIR="$WORK/worker"
# sbin/start-master.sh
( spark_class org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 0 --webui-port 0 ) > "$WORK/master.log" 2>&1 &
PIDS+=($!)
MASTER="$(wait_for "$WORK/master.log" 'spark://127\.0\.0\.1:[0-9]+' "master URL")"
say "master at $MASTER"
# sbin/start-worker.sh spark://HOST:PORT -c 2 -m 3g
( spark_class org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port 0 --webui-port 0 -c 2 -m 3g "$MASTER" ) \
  > "$WORK/worker.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/worker.log" 'Successfully registered with master' "worker registration" > /dev/null
say "worker registered ($((SECONDS - T0)) s)"

"$JAVA_HOME/bin/java" "$HERE/GradientImages.java" "$WORK/images" "$IMAGES"
say "local[2] run (./unetlens batch) …"
"$ROOT/unetlens" batch --input "$WORK/images" --out "$WORK/local" --master 'local[2]' --threads-per-task 1 \
  > "$WORK/local.log" 2>&1 || { tail -20 "$WORK/local.log" >&2; exit 1; }
MODEL="$(sed -n 's/^ *"model" : "\(.*\)",$/\1/p' "$WORK/local/manifest.json" | head -1)"

say "cluster run (spark-submit --master $MASTER) …"
T1=$SECONDS
( spark_class org.apache.spark.deploy.SparkSubmit --master "$MASTER" --class dev.unetlens.spark.BatchMain \
    --driver-java-options "-Dai.djl.offline=true" --conf spark.executor.extraJavaOptions="-Dai.djl.offline=true" \
    --executor-cores 2 --conf spark.task.cpus=1 --executor-memory 2g \
    "$JAR" \
    --model "$MODEL" --input "$WORK/images" --out "$WORK/cluster" --threads-per-task 1 ) > "$WORK/submit.log" 2>&1 \
  || { grep -v ' INFO ' "$WORK/submit.log" | tail -20 >&2; exit 1; }
say "cluster run took $((SECONDS - T1)) s; executors: $(ls "$SPARK_WORKER_DIR"/*/ | grep -c '^[0-9]')"

"$JAVA_HOME/bin/java" -XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED \
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED \
  -cp "$SPARK_HOME/jars/*" "$HERE/CompareRuns.java" "$WORK/cluster" "$WORK/local" 2> "$WORK/compare.log" \
  || { say "error: the cluster run differs from the local[2] run (above; outputs kept in $WORK)"; KEEP=1; exit 1; }
say "the cluster run's tables and results.json equal the local[2] run's ($((SECONDS - T0)) s in all)"
