# Sourced by tests/local/external_storage_it.sh and bench/upload/run.sh: starts Azurite (from
# tests/node/node_modules) and amlops-local whose workspace storage is that Azurite account
# (config.yml `storage:`), both on free loopback ports, and exports the amlops-local env.
# Needs: BIN (holds amlops-local), WORK (scratch folder), ROOT (the source tree).
AZURITE_ACCOUNT=devstoreaccount1
# Azurite's well-known development key (public, documented by Microsoft).
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZURITE_KEY

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_azurite() {  # sets AZURITE_PID, AZURITE_URL
  local bin="$ROOT/tests/node/node_modules/.bin/azurite-blob" port
  [ -x "$bin" ] || return 77
  port=$(free_port)
  "$bin" --blobHost 127.0.0.1 --blobPort "$port" --location "$WORK/azurite" --skipApiVersionCheck --loose \
    --silent > "$WORK/azurite.log" 2>&1 &
  AZURITE_PID=$!
  AZURITE_URL="http://127.0.0.1:$port/$AZURITE_ACCOUNT"
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$AZURITE_URL?comp=list" && return 0
    sleep 0.1
  done
  echo "Azurite did not start:" >&2; cat "$WORK/azurite.log" >&2; return 1
}

start_local_external() {  # amlops-local with storage: on Azurite; exports its env
  mkdir -p "$WORK/srv"
  cat > "$WORK/srv/config.yml" <<YML
storage:
  blob_endpoint: $AZURITE_URL
  account: $AZURITE_ACCOUNT
  key_env: AZURITE_KEY
YML
  "$BIN/amlops-local" serve --port 0 --data "$WORK/srv" --daemon --print-env > "$WORK/env"
  . "$WORK/env"
  export AMLOPS_ARM_ENDPOINT AZURE_AUTHORITY_HOST AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET \
    AZURE_SUBSCRIPTION_ID AMLOPS_WORKSPACE
}

stop_all() {
  "$BIN/amlops-local" stop --data "$WORK/srv" > /dev/null 2>&1 || true
  [ -n "${AZURITE_PID:-}" ] && kill "$AZURITE_PID" 2> /dev/null && wait "$AZURITE_PID" 2> /dev/null
  return 0
}
