#!/usr/bin/env bash
# The disaster-recovery drill (docs/operations.md), on real processes on 127.0.0.1: the S3 test
# server, three indexers and a query node, as test/integration/cluster.test.ts starts them.
#
#   1. writes two namespaces through the query node, counting every acknowledged write;
#   2. deletes the disk cache of drill-a's owner and SIGKILLs it: queries must still answer
#      through the query node, with every acknowledged write (RPO), and the owner, restarted,
#      must take writes again (RTO);
#   3. restores drill-a to a point in time (before a delete) and checks its documents;
#   4. backs drill-b up (silt backup), restores it into a fresh prefix (silt restore), starts a
#      node there and checks it.
# Prints the measured RPO and RTO; exits non-zero on the first failed check.
#
# Usage: examples/distributed/dr-drill.sh   (from anywhere; needs node, curl, jq; npm ci done)
# Set DRILL_KEEP=1 to keep the work directory (logs, backup) for inspection.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/silt-dr-drill.XXXXXX")
DOCS=${DRILL_DOCS:-300}
declare -A PID=()

cleanup() {
  # Silt nodes first (they flush their tails on SIGTERM), object storage last.
  for name in "${!PID[@]}"; do [[ $name == s3 ]] || kill "${PID[$name]}" 2>/dev/null || true; done
  for name in "${!PID[@]}"; do [[ $name == s3 ]] || wait "${PID[$name]}" 2>/dev/null || true; done
  if [[ -n "${PID[s3]:-}" ]]; then kill "${PID[s3]}" 2>/dev/null || true; wait "${PID[s3]}" 2>/dev/null || true; fi
  if [[ "${DRILL_KEEP:-}" == 1 ]]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
fail() { echo "DRILL FAILED: $*" >&2; for f in "$WORK"/*.log; do echo "--- $f (last lines)" >&2; tail -n 5 "$f" >&2; done; exit 1; }
step() { echo "== $*"; }

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# req METHOD URL [JSON]: sets STATUS and BODY; never fails the script (STATUS 000 = no answer).
req() {
  local out
  out=$(curl -s --max-time 20 -w $'\n%{http_code}' -X "$1" -H 'content-type: application/json' ${3:+--data-binary "$3"} "$2" || true)
  STATUS=${out##*$'\n'}
  BODY=${out%$'\n'*}
  [[ "$STATUS" =~ ^[0-9]{3}$ ]] || STATUS=000
}

wait_health() { # URL: polls /health until it answers 200 (30 s)
  for _ in $(seq 1 300); do
    req GET "$1/health"
    [[ "$STATUS" == 200 ]] && return 0
    sleep 0.1
  done
  fail "$1 did not come up"
}

# --- object storage ---------------------------------------------------------------------------
step "starting the S3 test server"
node --import tsx "$ROOT/test/support/s3-server-main.ts" --dir "$WORK/s3" >"$WORK/s3.out" 2>"$WORK/s3.log" &
PID[s3]=$!
for _ in $(seq 1 300); do [[ -s "$WORK/s3.out" ]] && break; sleep 0.1; done
ENDPOINT=$(jq -r .endpoint <"$WORK/s3.out")
BUCKET=$(jq -r .bucket <"$WORK/s3.out")
[[ -n "$ENDPOINT" && "$ENDPOINT" != null ]] || fail "the S3 test server did not start"

storage_env() { # PREFIX
  echo SILT_STORAGE_BACKEND=s3 SILT_STORAGE_S3_BUCKET="$BUCKET" SILT_STORAGE_S3_ENDPOINT="$ENDPOINT" \
    SILT_STORAGE_S3_WAL_PREFIX="$1" SILT_STORAGE_S3_MAX_RETRIES=2 AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
}

# --- the cluster ------------------------------------------------------------------------------
INDEXERS=(indexer-1 indexer-2 indexer-3)
declare -A PORT=()
for n in "${INDEXERS[@]}" query-1 restored; do PORT[$n]=$(free_port); done
ADDRESSES=$(for n in "${INDEXERS[@]}"; do printf 'http://127.0.0.1:%s,' "${PORT[$n]}"; done)
ADDRESSES=${ADDRESSES%,}
NODES=$(IFS=,; echo "${INDEXERS[*]}")

start_node() { # NAME ROLE
  # shellcheck disable=SC2046
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" $(storage_env drill) \
    SILT_SERVER_HOST=127.0.0.1 SILT_SERVER_PORT="${PORT[$1]}" SILT_NODE_ID="$1" SILT_NODE_ROLE="$2" \
    SILT_DISTRIBUTED_ENABLED=true SILT_DISTRIBUTED_INDEXER_CLUSTER_NODES="$NODES" \
    SILT_DISTRIBUTED_INDEXER_CLUSTER_ADDRESSES="$ADDRESSES" SILT_DISTRIBUTED_FORWARD_TIMEOUT_MS=1500 \
    SILT_CACHE_DISK_PATH="$WORK/cache-$1" SILT_INDEXING_FLUSH_INTERVAL_SECS=3600 SILT_LOGGING_LEVEL=warn \
    node --import tsx "$ROOT/src/main.ts" >>"$WORK/$1.log" 2>&1 &
  PID[$1]=$!
}

step "starting ${INDEXERS[*]} and query-1"
for n in "${INDEXERS[@]}"; do start_node "$n" indexer; done
start_node query-1 query
for n in "${INDEXERS[@]}" query-1; do wait_health "http://127.0.0.1:${PORT[$n]}"; done
Q="http://127.0.0.1:${PORT[query-1]}"

# --- 1. data ----------------------------------------------------------------------------------
declare -A ACKED=()
declare -A OWNER=()
write_batch() { # NS FROM COUNT: upserts ids FROM..FROM+COUNT-1 through the query node
  local body
  body=$(jq -cn --argjson from "$2" --argjson n "$3" '{documents: [range($from; $from + $n) | {id: ., vector: [., 1], attributes: {title: "doc \(.)"}}]}')
  req POST "$Q/v1/namespaces/$1/upsert" "$body"
}
documents() { # NS: the live document count through the query node
  req GET "$Q/v1/namespaces/$1"
  [[ "$STATUS" == 200 ]] || fail "GET $1 answered $STATUS: $BODY"
  jq -r .documents <<<"$BODY"
}

step "writing $DOCS documents into drill-a and drill-b"
for ns in drill-a drill-b; do
  req PUT "$Q/v1/namespaces/$ns" '{"vector_dim": 2, "vector_metric": "l2", "attributes": {"title": {"type": "string"}}}'
  [[ "$STATUS" == 201 ]] || fail "create $ns answered $STATUS: $BODY"
  ACKED[$ns]=0
  for ((from = 0; from < DOCS; from += 50)); do
    write_batch "$ns" "$from" 50
    [[ "$STATUS" == 200 ]] || fail "upsert into $ns answered $STATUS: $BODY"
    ACKED[$ns]=$((ACKED[$ns] + 50))
    # Half the namespace in segments, half only in the WAL tail when the owner dies.
    if ((from + 50 == DOCS / 2)); then req POST "$Q/v1/namespaces/$ns/flush"; fi
  done
  OWNER[$ns]=$(curl -s -o /dev/null -D - "$Q/v1/namespaces/$ns" | tr -d '\r' | awk 'tolower($1) == "x-silt-node:" { print $2 }')
  echo "   $ns: ${ACKED[$ns]} acknowledged, owner ${OWNER[$ns]}"
done

# --- 2. lose an indexer -----------------------------------------------------------------------
VICTIM=${OWNER[drill-a]}
step "deleting $VICTIM's disk cache and killing it with SIGKILL"
KILLED_AT=$(now_ms)
kill -9 "${PID[$VICTIM]}"
wait "${PID[$VICTIM]}" 2>/dev/null || true
unset "PID[$VICTIM]"
rm -rf "$WORK/cache-$VICTIM"

for _ in $(seq 1 600); do
  req POST "$Q/v1/namespaces/drill-a/query" '{"vector": [1, 1], "top_k": 5}'
  [[ "$STATUS" == 200 ]] && break
  sleep 0.05
done
[[ "$STATUS" == 200 ]] || fail "queries on drill-a did not answer after the owner died ($STATUS: $BODY)"
QUERY_RTO=$(($(now_ms) - KILLED_AT))
[[ $(jq -r '.served_from // empty' <<<"$BODY") == object_storage ]] || fail "query-1 should serve drill-a from object storage: $BODY"
SEEN=$(documents drill-a)
LOST=$((ACKED[drill-a] - SEEN))
echo "   queries answer ${QUERY_RTO} ms after the kill; drill-a shows $SEEN of ${ACKED[drill-a]} acknowledged documents"
[[ "$LOST" == 0 ]] || fail "$LOST acknowledged writes are not visible after the owner's crash"

step "restarting $VICTIM (empty disk cache)"
RESTARTED_AT=$(now_ms)
start_node "$VICTIM" indexer
for _ in $(seq 1 600); do
  write_batch drill-a "$DOCS" 1
  [[ "$STATUS" == 200 ]] && break
  sleep 0.05
done
[[ "$STATUS" == 200 ]] || fail "$VICTIM did not take writes again ($STATUS: $BODY)"
WRITE_RTO=$(($(now_ms) - KILLED_AT))
ACKED[drill-a]=$((ACKED[drill-a] + 1))
echo "   drill-a takes writes again ${WRITE_RTO} ms after the kill ($(($(now_ms) - RESTARTED_AT)) ms after the restart)"
SEEN=$(documents drill-a)
[[ "$SEEN" == "${ACKED[drill-a]}" ]] || fail "drill-a has $SEEN documents after the restart, ${ACKED[drill-a]} were acknowledged"

# --- 3. point-in-time restore -----------------------------------------------------------------
step "deleting 50 documents of drill-a, then restoring it to the moment before"
req POST "$Q/v1/namespaces/drill-a/flush"
[[ "$STATUS" == 200 ]] || fail "flush answered $STATUS: $BODY"
sleep 0.2
POINT=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.2
req POST "$Q/v1/namespaces/drill-a/delete" "$(jq -cn '{ids: [range(0; 50)]}')"
[[ "$STATUS" == 200 ]] || fail "delete answered $STATUS: $BODY"
req GET "$Q/v1/namespaces/drill-a/documents/7"
[[ "$STATUS" == 404 ]] || fail "document 7 was not deleted ($STATUS)"
req POST "$Q/v1/namespaces/drill-a/restore" "{\"timestamp\": \"$POINT\"}"
[[ "$STATUS" == 200 ]] || fail "restore answered $STATUS: $BODY"
echo "   $(jq -c '{version, restored_from, dropped_writes, documents_before, documents_after}' <<<"$BODY")"
[[ $(jq -r .dropped_writes <<<"$BODY") == 50 ]] || fail "the restore should drop exactly the 50 deletes"
req GET "$Q/v1/namespaces/drill-a/documents/7"
[[ "$STATUS" == 200 ]] || fail "document 7 is not back after the restore ($STATUS)"
SEEN=$(documents drill-a)
[[ "$SEEN" == "${ACKED[drill-a]}" ]] || fail "drill-a has $SEEN documents after the restore, expected ${ACKED[drill-a]}"

# --- 4. backup, and restore into a fresh prefix -----------------------------------------------
silt() { # PREFIX ARGS…: the silt command against the storage under PREFIX
  local prefix=$1; shift
  # shellcheck disable=SC2046
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" $(storage_env "$prefix") node "$ROOT/bin/silt.mjs" "$@"
}
step "silt backup of drill-b, silt restore into the fresh prefix 'drill-restored'"
silt drill backup --to "$WORK/backup" --namespace drill-b --no-progress || fail "silt backup failed"
RESTORE_AT=$(now_ms)
silt drill-restored restore --from "$WORK/backup" --namespace drill-b --no-progress || fail "silt restore failed"
# shellcheck disable=SC2046
env -i PATH="$PATH" HOME="${HOME:-/tmp}" $(storage_env drill-restored) SILT_SERVER_HOST=127.0.0.1 SILT_SERVER_PORT="${PORT[restored]}" \
  SILT_CACHE_DISK_PATH="$WORK/cache-restored" SILT_LOGGING_LEVEL=warn node --import tsx "$ROOT/src/main.ts" >>"$WORK/restored.log" 2>&1 &
PID[restored]=$!
R="http://127.0.0.1:${PORT[restored]}"
wait_health "$R"
req GET "$R/v1/namespaces/drill-b"
[[ "$STATUS" == 200 ]] || fail "the restored drill-b answered $STATUS: $BODY"
BACKUP_RTO=$(($(now_ms) - RESTORE_AT))
RESTORED=$(jq -r .documents <<<"$BODY")
[[ "$RESTORED" == "${ACKED[drill-b]}" ]] || fail "restored drill-b has $RESTORED documents, ${ACKED[drill-b]} were acknowledged"
req GET "$R/v1/namespaces/drill-b/documents/$((DOCS - 1))"
[[ "$STATUS" == 200 ]] || fail "the restored drill-b lacks document $((DOCS - 1)) ($STATUS)"

echo
echo "DR drill passed"
echo "RPO: 0 acknowledged writes lost (${ACKED[drill-a]} + ${ACKED[drill-b]} acknowledged, all present)"
echo "RTO: queries answered ${QUERY_RTO} ms after the owner was killed (served from object storage by query-1)"
echo "RTO: the killed owner took writes again ${WRITE_RTO} ms after the kill (process restart included)"
echo "RTO: drill-b restored from backup into a fresh prefix and answering in ${BACKUP_RTO} ms"
