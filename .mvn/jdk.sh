# Sourced by ./mvnw, ./mlinfra and the benchmarks: selects a JDK 21 or newer, and names the JVM
# options dataset-service runs with.
# Order: JAVA_HOME when it is 21+, then the JDKs in /usr/lib/jvm (newest first).
mlinfra_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n 1
}
mlinfra_find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(mlinfra_java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then echo "$JAVA_HOME"; return 0; fi
  fi
  for dir in $(find /usr/lib/jvm -mindepth 1 -maxdepth 1 2>/dev/null | sort -rV); do
    dir=${dir%/}
    [ -x "$dir/bin/javac" ] || continue
    v=$(mlinfra_java_major "$dir")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then echo "$dir"; return 0; fi
  done
  return 1
}
if ! MLINFRA_JDK=$(mlinfra_find_jdk); then
  echo "mlinfra needs a JDK 21 or newer: set JAVA_HOME to one, or install one under /usr/lib/jvm" >&2
  echo "(found: JAVA_HOME=${JAVA_HOME:-unset})" >&2
  exit 1
fi
export JAVA_HOME="$MLINFRA_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
# JVM options with which ./mlinfra and bench/datasets run dataset-service: the parallel collector.
# On two cores G1 shrank its heap to about 80 MB and ran a concurrent marking cycle at nearly
# every collection while a large file streamed through, about 0.3 CPU seconds per 500 MB upload
# (bench/README.md). The other services keep the JVM's default collector (for the gateway, the
# parallel one gave less throughput). Set MLINFRA_DATASETS_JVM_OPTS to replace them (empty: the
# JVM's defaults).
export MLINFRA_DATASETS_JVM_OPTS="${MLINFRA_DATASETS_JVM_OPTS--XX:+UseParallelGC}"
