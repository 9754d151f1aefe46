#!/bin/sh
# Stands in for amlops-<tool>: records its arguments and the credential environment, copies a
# federated token file's content and mode (the handler deletes the file afterwards), sets an
# output variable the way the binary does on Azure Pipelines, and exits with $FAKE_EXIT.
{
  for a in "$@"; do printf 'ARG %s\n' "$a"; done
  env | grep -E '^(AZURE_[A-Z_]*|AZURESUBSCRIPTION_[A-Z_]*|SYSTEM_OIDCREQUESTURI|SYSTEM_ACCESSTOKEN|AMLOPS_AUTH|AMLOPS_USE_IMDS)=' | sort | sed 's/^/ENV /'
  if [ -n "${AZURE_FEDERATED_TOKEN_FILE:-}" ]; then
    printf 'TOKEN %s\n' "$(cat "$AZURE_FEDERATED_TOKEN_FILE")"
    printf 'MODE %s\n' "$(stat -c %a "$AZURE_FEDERATED_TOKEN_FILE")"
  fi
  printf 'CWD %s\n' "$(pwd)"
} > "$FAKE_RECORD"
echo "##vso[task.setvariable variable=sarif-file;isoutput=true]out.sarif" >&2
echo "##vso[task.setvariable variable=findings;isoutput=true]3"
exit "${FAKE_EXIT:-0}"
