// The one handler of every amlops Azure DevOps task (tasks/Amlops<Tool>V1). Linux and macOS agents
// cannot run a native binary as a task, so this Node script does it:
//  - reads each input of the task's task.json with azure-pipelines-task-lib and passes it to the
//    tool as its flag (camelCase input -> --kebab-case flag), only for the commands it applies to
//    (the input's visibleRule). task-lib removes INPUT_* from the environment, so nothing is left
//    for the binary to read by itself;
//  - turns the AzureRM service connection into the variables the binary's credential chain reads
//    (src/azure/credential_chain.cpp): workload identity federation -> the SYSTEM_OIDCREQUESTURI
//    route (the binary fetches fresh OIDC tokens itself during long waits) or, where the agent has no
//    System.OidcRequestUri, a token from the task API written to AZURE_FEDERATED_TOKEN_FILE;
//    service principal secret -> AZURE_CLIENT_SECRET; managed identity -> IMDS;
//  - makes the bundled binary executable (a .vsix does not keep the executable bit), streams its
//    output, adds camelCase aliases of the output variables it sets, and maps its exit code to the
//    task result (0 Succeeded; 1 a check failed; 2 bad input; 3 timed out; 4 service error).
// Packaging copies this file next to each task's index.js (make package).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const tl = require('azure-pipelines-task-lib/task');

// Inputs that are not flags of the tool.
const NOT_FLAGS = new Set(['command', 'azureSubscription', 'resourceGroup', 'workingDirectory']);

const EXIT_MEANING = {
  1: 'the check failed',
  2: 'usage or configuration error',
  3: 'timed out',
  4: 'service or network error after retries',
  130: 'interrupted',
};

function kebab(name) {
  return name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function camel(name) {
  return name.replace(/[-_]+([a-zA-Z0-9])/g, (_, c) => c.toUpperCase());
}

// visibleRule of the form "command = a || command = b" (what gen_manifests.py writes).
function appliesTo(input, command) {
  if (!input.visibleRule) return true;
  return input.visibleRule.split('||').some((term) => {
    const m = term.match(/^\s*command\s*=\s*(\S+)\s*$/);
    return m !== null && m[1] === command;
  });
}

// A bare workspace name becomes a workspace URI with the connection's subscription.
function workspaceUri(value, subscription) {
  if (/[/:]/.test(value)) return value;
  const rg = tl.getInput('resourceGroup', false);
  if (!rg || !subscription) {
    throw new Error(
      "workspace '" + value + "' is a bare name: set resourceGroup (and use a subscription-scoped connection), " +
        'or give azureml://subscriptions/S/resourcegroups/RG/workspaces/W',
    );
  }
  return 'azureml://subscriptions/' + subscription + '/resourcegroups/' + rg + '/workspaces/' + value;
}

function flagArgs(task, command, subscription) {
  const args = [command];
  for (const input of task.inputs) {
    if (NOT_FLAGS.has(input.name)) continue;
    const flag = '--' + kebab(input.name);
    const raw = tl.getInput(input.name, false);
    const given = raw !== undefined && raw !== null && raw.trim() !== '';
    if (!appliesTo(input, command)) {
      if (given && String(raw) !== String(input.defaultValue === undefined ? '' : input.defaultValue)) {
        tl.warning('input ' + input.name + " does not apply to command '" + command + "' and is ignored");
      }
      continue;
    }
    if (!given) continue;
    if (input.type === 'boolean') {
      if (tl.getBoolInput(input.name, false)) args.push(flag);
    } else if (input.type === 'multiLine') {
      for (const line of raw.split(/\r?\n/)) {
        if (line.trim() !== '') args.push(flag + '=' + line.trim());
      }
    } else {
      let value = raw.trim();
      if (input.name === 'workspace') value = workspaceUri(value, subscription);
      // --flag=value: a value that starts with '-' is not read as another option.
      args.push(flag + '=' + value);
    }
  }
  return args;
}

function httpPost(url, token) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'http:' ? require('http') : require('https');
    const req = mod.request(
      u,
      {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json', 'Content-Length': 2 },
        timeout: 30000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end('{}');
  });
}

// Task API route (what AzureCLI@2 uses): .../plans/{plan}/jobs/{job}/oidctoken?serviceConnectionId=.
async function requestOidcToken(connection, accessToken) {
  const v = (n) => tl.getVariable(n) || '';
  const base = v('System.CollectionUri').replace(/\/?$/, '/');
  const url =
    base + v('System.TeamProjectId') + '/_apis/distributedtask/hubs/' + (v('System.HostType') || 'build') +
    '/plans/' + v('System.PlanId') + '/jobs/' + v('System.JobId') + '/oidctoken?serviceConnectionId=' +
    encodeURIComponent(connection) + '&api-version=7.1-preview.1';
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const r = await httpPost(url, accessToken);
      if (r.status === 200) {
        const token = JSON.parse(r.body).oidcToken;
        if (token) return token;
        last = 'no oidcToken in the answer';
      } else {
        last = 'HTTP ' + r.status;
      }
    } catch (e) {
      last = e.message;
    }
    if (attempt < 3) await new Promise((res) => setTimeout(res, 2000));
  }
  throw new Error('could not get an OIDC token for service connection ' + connection + ' (' + last + ')');
}

// Environment for the binary's credential chain; returns {env, cleanup}.
async function credentialEnv(connection) {
  const env = {};
  const files = [];
  if (!connection) return { env, files };
  const scheme = (tl.getEndpointAuthorizationScheme(connection, false) || '').toLowerCase();
  const param = (k) => tl.getEndpointAuthorizationParameter(connection, k, true) || '';
  const data = (k) => tl.getEndpointDataParameter(connection, k, true) || '';
  const subscription = data('subscriptionid');
  if (subscription) env.AZURE_SUBSCRIPTION_ID = subscription;
  const authority = data('activeDirectoryAuthority') || data('environmentAuthorityUrl');
  if (authority) env.AZURE_AUTHORITY_HOST = authority.replace(/\/+$/, '');
  const auth = tl.getInput('auth', false);
  const choose = (kind) => {
    if (!auth) env.AMLOPS_AUTH = kind;
  };
  if (scheme === 'workloadidentityfederation') {
    env.AZURE_CLIENT_ID = param('serviceprincipalid');
    env.AZURE_TENANT_ID = param('tenantid');
    const accessToken =
      tl.getEndpointAuthorizationParameter('SystemVssConnection', 'AccessToken', true) ||
      tl.getVariable('System.AccessToken') ||
      '';
    if (!accessToken) throw new Error('workload identity federation needs the job access token (System.AccessToken)');
    tl.setSecret(accessToken);
    const oidcUri = tl.getVariable('System.OidcRequestUri');
    if (oidcUri) {
      env.SYSTEM_OIDCREQUESTURI = oidcUri;
      env.SYSTEM_ACCESSTOKEN = accessToken;
      env.AZURESUBSCRIPTION_SERVICE_CONNECTION_ID = connection;
      env.AZURESUBSCRIPTION_CLIENT_ID = env.AZURE_CLIENT_ID;
      env.AZURESUBSCRIPTION_TENANT_ID = env.AZURE_TENANT_ID;
      choose('azure-devops-oidc');
    } else {
      const token = await requestOidcToken(connection, accessToken);
      tl.setSecret(token);
      const dir = tl.getVariable('Agent.TempDirectory') || os.tmpdir();
      const file = path.join(dir, 'amlops-oidc-' + process.pid + '-' + Date.now() + '.jwt');
      fs.writeFileSync(file, token, { mode: 0o600 });
      files.push(file);
      env.AZURE_FEDERATED_TOKEN_FILE = file;
      choose('workload-identity');
    }
  } else if (scheme === 'serviceprincipal') {
    if ((param('authenticationType') || '').toLowerCase() === 'spncertificate') {
      throw new Error(
        'certificate service connections are not supported: use workload identity federation or a secret',
      );
    }
    env.AZURE_CLIENT_ID = param('serviceprincipalid');
    env.AZURE_TENANT_ID = param('tenantid');
    env.AZURE_CLIENT_SECRET = param('serviceprincipalkey');
    tl.setSecret(env.AZURE_CLIENT_SECRET);
    choose('client-secret');
  } else if (scheme === 'managedserviceidentity') {
    env.AMLOPS_USE_IMDS = '1';
    if (param('tenantid')) env.AZURE_TENANT_ID = param('tenantid');
    choose('managed-identity');
  } else {
    throw new Error("service connection scheme '" + scheme + "' is not supported");
  }
  return { env, files, subscription };
}

function findBinary(taskDir, tool) {
  const exe = 'amlops-' + tool + (process.platform === 'win32' ? '.exe' : '');
  const override = process.env.AMLOPS_BIN_DIR;
  const candidates = [];
  if (override) candidates.push(path.join(override, exe));
  candidates.push(path.join(taskDir, 'bin', process.platform + '-' + process.arch, exe), path.join(taskDir, 'bin', exe));
  for (const c of candidates) {
    if (fs.existsSync(c)) {
      // A .vsix is a zip: the executable bit is lost on the way.
      if (process.platform !== 'win32') fs.chmodSync(c, 0o755);
      return c;
    }
  }
  const onPath = tl.which(exe, false);
  if (onPath) return onPath;
  throw new Error('no ' + exe + ' for ' + process.platform + '-' + process.arch + ' in ' + taskDir + '/bin or on PATH');
}

// `##vso[task.setvariable variable=sarif-file;isoutput=true;...]v` -> also set the task.json name sarifFile.
function aliasOutputs(line) {
  const m = line.match(/##vso\[task\.setvariable ([^\]]*)\](.*)$/);
  if (!m || !/(^|;)isoutput=true(;|$)/i.test(m[1])) return;
  const name = (m[1].match(/(?:^|;)variable=([^;]+)/i) || [])[1];
  if (!name || camel(name) === name) return;
  const value = m[2]
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%AZP25/g, '%');
  tl.setVariable(camel(name), value, /(^|;)issecret=true(;|$)/i.test(m[1]), true);
}

async function run(taskDir) {
  const files = [];
  try {
    const task = JSON.parse(fs.readFileSync(path.join(taskDir, 'task.json'), 'utf8'));
    const tool = task.name.replace(/^Amlops/, '').toLowerCase();
    const command = tl.getInput('command', true);
    const hasConnection = task.inputs.some((i) => i.name === 'azureSubscription');
    const connection = hasConnection ? tl.getInput('azureSubscription', false) : undefined;
    const cred = await credentialEnv(connection);
    files.push(...cred.files);
    const args = flagArgs(task, command, cred.subscription);
    const binary = findBinary(taskDir, tool);
    const cwd = tl.getPathInput('workingDirectory', false) || process.cwd();
    const env = Object.assign({}, process.env, cred.env);
    if (tool === 'report' && !tl.getInput('tokenEnv', false) && !env.SYSTEM_ACCESSTOKEN) {
      // amlops-report comments with SYSTEM_ACCESSTOKEN on Azure DevOps; a task has the job's
      // token through its SystemVssConnection endpoint (no pipeline env mapping needed).
      const token = tl.getEndpointAuthorizationParameter('SystemVssConnection', 'AccessToken', true);
      if (token) {
        tl.setSecret(token);
        env.SYSTEM_ACCESSTOKEN = token;
      }
    }
    const runner = tl.tool(binary).arg(args);
    runner.on('stdline', aliasOutputs);
    runner.on('errline', aliasOutputs);
    const code = await runner.exec({ cwd, env, ignoreReturnCode: true, failOnStdErr: false });
    if (code === 0) {
      tl.setResult(tl.TaskResult.Succeeded, 'amlops-' + tool + ' ' + command + ' succeeded');
    } else {
      tl.setResult(
        tl.TaskResult.Failed,
        'amlops-' + tool + ' ' + command + ' exited ' + code + ' (' + (EXIT_MEANING[code] || 'unexpected exit') + ')',
      );
    }
  } catch (e) {
    tl.setResult(tl.TaskResult.Failed, e.message);
  } finally {
    for (const f of files) {
      try {
        fs.unlinkSync(f);
      } catch (_) {
        // already gone
      }
    }
  }
}

module.exports = { run, kebab, camel, appliesTo };
