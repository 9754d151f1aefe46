# ARM access to an amlops-local started with --print-env (sourced, after its env file):
# local_arm_token prints a management bearer token; local_ws_path the workspace's ARM path
# (/subscriptions/S/resourceGroups/RG/providers/Microsoft.MachineLearningServices/workspaces/W).
PY=${PY:-/usr/bin/python3}
local_arm_token() {
  curl -sS --fail -X POST "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" \
    -d "client_id=$AZURE_CLIENT_ID&client_secret=$AZURE_CLIENT_SECRET&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
local_ws_path() {
  $PY - "$AMLOPS_WORKSPACE" <<'PY'
import sys
p = sys.argv[1].replace("azureml://", "").split("/")
d = {p[i].lower(): p[i + 1] for i in range(0, len(p) - 1, 2)}
print(f"/subscriptions/{d['subscriptions']}/resourceGroups/{d['resourcegroups']}/providers/Microsoft.MachineLearningServices/workspaces/{d['workspaces']}")
PY
}
# local_serve BIN_DIR DATA [serve options]: starts amlops-local in the background on a free port
# with its data in DATA and loads the environment it prints (credentials and AMLOPS_WORKSPACE,
# exported). The caller stops it: "$BIN_DIR/amlops-local" stop --data DATA.
local_serve() {
  local bin=$1 data=$2
  shift 2
  "$bin/amlops-local" serve --port 0 --data "$data" --daemon --print-env "$@" > "$data.env" 2> "$data.serve.log" ||
    { cat "$data.serve.log" >&2; return 1; }
  # shellcheck disable=SC1090
  . "$data.env"
}
