// The Azure DevOps task handler (tasks/common/amlops-task.js) under azure-pipelines-task-lib's mock
// runner (mock-run + mock-test): inputs become the tool's flags, only for the commands they apply
// to; each kind of AzureRM service connection becomes the variables the binary's credential chain
// reads; the bundled binary is made executable; output variables get their camelCase names; exit
// codes map to the task result; secrets never show in the log. One run uses the real amlops-lint.
//
// usage: node ado_test.js SOURCE_DIR BIN_DIR WORK_DIR   (NODE_PATH = tests/node/node_modules)
'use strict';
const cp = require('child_process');
const fs = require('fs');
const path = require('path');
const mtm = require('azure-pipelines-task-lib/mock-test');

const [SRC, BIN, WORK] = process.argv.slice(2).map((p) => path.resolve(p));
const SCENARIO = path.join(__dirname, 'ado', 'scenario.js');
const FAKE = path.join(__dirname, 'ado', 'fake-tool.sh');
const failures = [];

function check(cond, what) {
  console.log((cond ? 'ok    ' : 'FAIL  ') + what);
  if (!cond) failures.push(what);
}

function taskDir(tool) {
  return path.join(SRC, 'tasks', 'Amlops' + tool[0].toUpperCase() + tool.slice(1) + 'V1');
}

// A bin folder whose amlops-<tool> is the recorder.
function fakeBin(tool) {
  const d = path.join(WORK, 'fakebin-' + tool);
  fs.mkdirSync(d, { recursive: true });
  fs.copyFileSync(FAKE, path.join(d, 'amlops-' + tool));
  fs.chmodSync(path.join(d, 'amlops-' + tool), 0o755);
  return d;
}

let n = 0;
async function runTask(tool, inputs, env, opts = {}) {
  const record = path.join(WORK, 'record-' + ++n);
  const sc = {
    taskDir: opts.taskDir || taskDir(tool),
    inputs,
    env: Object.assign(
      { TF_BUILD: 'True', FAKE_RECORD: record, AGENT_TEMPDIRECTORY: WORK },
      opts.realBinary || opts.taskDir ? {} : { AMLOPS_BIN_DIR: fakeBin(tool) },
      env,
    ),
  };
  process.env.AMLOPS_SCENARIO = JSON.stringify(sc);
  const tr = new mtm.MockTestRunner(SCENARIO, path.join(sc.taskDir, 'task.json'));
  tr.nodePath = process.execPath; // this Node: the runner would otherwise download one
  await tr.runAsync();
  const rec = fs.existsSync(record) ? fs.readFileSync(record, 'utf8').split('\n') : [];
  const args = rec.filter((l) => l.startsWith('ARG ')).map((l) => l.slice(4));
  const envOut = {};
  for (const l of rec.filter((x) => x.startsWith('ENV '))) {
    const i = l.indexOf('=');
    envOut[l.slice(4, i)] = l.slice(i + 1);
  }
  const token = (rec.find((l) => l.startsWith('TOKEN ')) || '').slice(6);
  const mode = (rec.find((l) => l.startsWith('MODE ')) || '').slice(5);
  if (process.env.DEBUG_ADO) console.log(tr.stdout + tr.stderr);
  return { tr, args, env: envOut, token, mode, log: tr.stdout + tr.stderr };
}

function endpoint(id, scheme, params, data) {
  const env = { ['ENDPOINT_AUTH_SCHEME_' + id]: scheme, ['ENDPOINT_URL_' + id]: 'https://management.azure.com/' };
  env['ENDPOINT_AUTH_' + id] = JSON.stringify({ scheme, parameters: params });
  for (const [k, v] of Object.entries(params)) env['ENDPOINT_AUTH_PARAMETER_' + id + '_' + k.toUpperCase()] = v;
  for (const [k, v] of Object.entries(data)) env['ENDPOINT_DATA_' + id + '_' + k.toUpperCase()] = v;
  return env;
}

// A loopback stand-in for the Azure DevOps task API's oidctoken endpoint, in its own process
// (the mock runner blocks this one while the task runs). Records each request to a file.
function fakeOidcServer(log) {
  const code = `
    const http = require('http'); const fs = require('fs');
    const s = http.createServer((req, res) => {
      let body = ''; req.on('data', d => body += d); req.on('end', () => {
        fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({method: req.method, url: req.url,
          auth: req.headers.authorization}) + '\\n');
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({oidcToken: 'eyJfake.oidc.tokenW9'}));
      });
    });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = cp.spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout.once('data', (d) => resolve({ child, port: Number(String(d).trim()) })));
}

const CONN = 'c0ffee00-1111-2222-3333-444455556666';
const SUB = '00000000-aaaa-bbbb-cccc-000000000001';
const ACCESS = 'accessTokenW9SecretValue123';

// The log without the mask commands themselves and without task-lib's own debug lines (task-lib
// debug-logs endpoint parameters; the agent masks every endpoint auth parameter in them).
function visible(log) {
  return log.replace(/##vso\[task\.(setsecret|debug)\][^\n]*/g, '');
}

async function main() {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(path.join(WORK, 'repo', 'src'), { recursive: true });
  fs.writeFileSync(path.join(WORK, 'repo', 'requirements.txt'), 'pandas\n');
  fs.writeFileSync(path.join(WORK, 'repo', 'src', 'train.py'), "print('train')\n");

  // 1. Inputs -> flags; booleans; output aliases; exit 0.
  let r = await runTask('lint', { command: 'check', path: 'repo', failOn: 'warning', noHistory: 'true',
    updateBaseline: 'false', sarifFile: 'out.sarif', workingDirectory: WORK });
  check(JSON.stringify(r.args) === JSON.stringify(['check', '--path=repo', '--sarif-file=out.sarif',
    '--fail-on=warning', '--no-history']), 'lint: inputs become flags in task.json order: ' + r.args.join(' '));
  check(r.tr.succeeded, 'lint: exit 0 -> Succeeded');
  check(/variable=sarifFile;isoutput=true;[^\]]*\]out\.sarif/i.test(r.log),
    'lint: output sarif-file is also set as sarifFile');
  check(r.tr.cmdlines && Object.keys(r.tr.cmdlines).some((c) => c.includes('--fail-on=warning')),
    'lint: the command line is logged');

  // 2. An input that does not apply to the command is left out, with a warning.
  r = await runTask('lint', { command: 'rules', path: 'other', failOn: 'warning' });
  check(JSON.stringify(r.args) === JSON.stringify(['rules']), 'lint rules: check-only inputs are not passed: ' +
    r.args.join(' '));
  check(r.tr.warningIssues.some((w) => w.includes('path') && w.includes('rules')), 'lint rules: warns about them');

  // 3. Exit codes -> Failed with the meaning.
  r = await runTask('lint', { command: 'check' }, { FAKE_EXIT: '1' });
  check(r.tr.failed && r.tr.stdOutContained('exited 1 (the check failed)'), 'exit 1 -> Failed, "the check failed"');
  r = await runTask('lint', { command: 'check' }, { FAKE_EXIT: '2' });
  check(r.tr.failed && r.tr.stdOutContained('exited 2 (usage or configuration error)'), 'exit 2 -> Failed, usage');

  // 4. Workload identity federation with System.OidcRequestUri: the binary gets the route and
  //    fetches (and refreshes) tokens itself. Bare workspace name + resource group -> URI.
  const wif = endpoint(CONN, 'WorkloadIdentityFederation', { serviceprincipalid: 'client-1', tenantid: 'tenant-1' },
    { subscriptionid: SUB, activeDirectoryAuthority: 'https://login.example.test/' });
  const vss = { ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: ACCESS };
  r = await runTask('job', { command: 'submit', azureSubscription: CONN, workspace: 'ws', resourceGroup: 'rg',
    file: 'train.yml', tag: 'a=1\nb=2\n', stream: 'true' },
  Object.assign({ SYSTEM_OIDCREQUESTURI: 'https://dev.azure.test/org/_apis/oidc' }, wif, vss));
  check(r.args.includes('--workspace=azureml://subscriptions/' + SUB + '/resourcegroups/rg/workspaces/ws'),
    'job: bare workspace + resourceGroup + the connection subscription -> workspace URI');
  check(r.args.filter((a) => a.startsWith('--tag=')).join(' ') === '--tag=a=1 --tag=b=2',
    'job: a multi-line input becomes one flag per line');
  check(r.args.includes('--stream') && r.args.includes('--file=train.yml'), 'job: boolean and string inputs');
  check(r.env.AZURE_CLIENT_ID === 'client-1' && r.env.AZURE_TENANT_ID === 'tenant-1' &&
    r.env.SYSTEM_OIDCREQUESTURI === 'https://dev.azure.test/org/_apis/oidc' && r.env.SYSTEM_ACCESSTOKEN === ACCESS &&
    r.env.AZURESUBSCRIPTION_SERVICE_CONNECTION_ID === CONN && r.env.AMLOPS_AUTH === 'azure-devops-oidc',
  'job WIF: the OIDC request route, ids and access token reach the binary ' + JSON.stringify(r.env));
  check(r.env.AZURE_SUBSCRIPTION_ID === SUB && r.env.AZURE_AUTHORITY_HOST === 'https://login.example.test',
    'job WIF: subscription and authority host from the connection');
  check(!visible(r.log).includes(ACCESS), 'job WIF: the access token is masked, never printed');

  // 5. Workload identity federation without System.OidcRequestUri: the handler asks the task API
  //    for the token and hands it over in a 0600 file that is gone afterwards.
  const srvLog = path.join(WORK, 'oidc-requests');
  const srv = await fakeOidcServer(srvLog);
  try {
    r = await runTask('job', { command: 'show', azureSubscription: CONN, name: 'job-1',
      workspace: 'azureml://subscriptions/s/resourcegroups/rg/workspaces/w' },
    Object.assign({ SYSTEM_COLLECTIONURI: 'http://127.0.0.1:' + srv.port + '/org/', SYSTEM_TEAMPROJECTID: 'proj',
      SYSTEM_HOSTTYPE: 'build', SYSTEM_PLANID: 'plan-1', SYSTEM_JOBID: 'job-9' }, wif, vss));
  } finally {
    srv.child.kill();
  }
  const reqs = fs.existsSync(srvLog) ? fs.readFileSync(srvLog, 'utf8').trim().split('\n').map(JSON.parse) : [];
  check(reqs.length === 1 && reqs[0].method === 'POST' && reqs[0].auth === 'Bearer ' + ACCESS &&
    reqs[0].url.startsWith('/org/proj/_apis/distributedtask/hubs/build/plans/plan-1/jobs/job-9/oidctoken?') &&
    reqs[0].url.includes('serviceConnectionId=' + CONN), 'job WIF fallback: one oidctoken request to the task API ' +
    JSON.stringify(reqs));
  check(r.token === 'eyJfake.oidc.tokenW9' && r.mode === '600' && r.env.AMLOPS_AUTH === 'workload-identity',
    'job WIF fallback: AZURE_FEDERATED_TOKEN_FILE holds the token, mode 600');
  check(r.env.AZURE_FEDERATED_TOKEN_FILE && !fs.existsSync(r.env.AZURE_FEDERATED_TOKEN_FILE),
    'job WIF fallback: the token file is deleted after the run');
  check(r.tr.succeeded && !visible(r.log).includes('eyJfake.oidc.tokenW9'),
    'job WIF fallback: succeeded and the token is masked');

  // 6. Service principal with a secret; 7. managed identity; 8. certificate: refused.
  const SECRET = 'spSecretW9-value~xyz';
  r = await runTask('model', { command: 'list', azureSubscription: CONN, name: 'm',
    workspace: 'azureml://subscriptions/s/resourcegroups/rg/workspaces/w' },
  endpoint(CONN, 'ServicePrincipal', { serviceprincipalid: 'client-2', tenantid: 'tenant-2',
    serviceprincipalkey: SECRET, authenticationType: 'spnKey' }, { subscriptionid: SUB }));
  check(r.env.AZURE_CLIENT_SECRET === SECRET && r.env.AZURE_CLIENT_ID === 'client-2' &&
    r.env.AMLOPS_AUTH === 'client-secret', 'model SP: client id, tenant and secret reach the binary');
  check(!r.args.some((a) => a.includes(SECRET)) && !visible(r.log).includes(SECRET),
    'model SP: the secret is in neither the arguments nor the log');
  r = await runTask('model', { command: 'list', azureSubscription: CONN, name: 'm', auth: 'managed-identity',
    workspace: 'azureml://subscriptions/s/resourcegroups/rg/workspaces/w' },
  endpoint(CONN, 'ManagedServiceIdentity', { tenantid: 'tenant-3' }, { subscriptionid: SUB }));
  check(r.env.AMLOPS_USE_IMDS === '1' && r.env.AMLOPS_AUTH === undefined && r.args.includes('--auth=managed-identity'),
    'model MSI: IMDS enabled; an explicit auth input wins over the default choice');
  r = await runTask('model', { command: 'list', azureSubscription: CONN, name: 'm', workspace: 'w' },
    endpoint(CONN, 'ServicePrincipal', { serviceprincipalid: 'c', tenantid: 't', authenticationType: 'spnCertificate',
      servicePrincipalCertificate: 'PEM' }, {}));
  check(r.tr.failed && r.args.length === 0 && r.tr.stdOutContained('certificate service connections are not supported'),
    'model: a certificate connection fails clearly without running the tool');

  // The report task hands the job's access token to amlops-report, which comments with it.
  r = await runTask('report', { command: 'comment', fragment: 'a.md\nb.md' }, vss);
  check(r.env.SYSTEM_ACCESSTOKEN === ACCESS && r.args.join(' ') === 'comment --fragment=a.md --fragment=b.md',
    'report: SYSTEM_ACCESSTOKEN from SystemVssConnection; one --fragment per line');
  check(!visible(r.log).includes(ACCESS), 'report: the access token is masked');

  // 9. The packaged layout: bin/amlops-<tool> without the executable bit (as a .vsix unpacks it).
  const staged = path.join(WORK, 'staged', 'AmlopsMonitorV1');
  fs.mkdirSync(path.join(staged, 'bin'), { recursive: true });
  for (const f of ['task.json', 'index.js']) fs.copyFileSync(path.join(taskDir('monitor'), f), path.join(staged, f));
  fs.copyFileSync(path.join(SRC, 'tasks', 'common', 'amlops-task.js'), path.join(staged, 'amlops-task.js'));
  fs.copyFileSync(FAKE, path.join(staged, 'bin', 'amlops-monitor'));
  fs.chmodSync(path.join(staged, 'bin', 'amlops-monitor'), 0o644);
  r = await runTask('monitor', { command: 'drift', reference: 'r.csv', current: 'c.csv', failOnDrift: 'true',
    config: '' }, {}, { taskDir: staged });
  check(r.tr.succeeded && (fs.statSync(path.join(staged, 'bin', 'amlops-monitor')).mode & 0o111) !== 0,
    'packaged task: the bundled binary is made executable and runs');
  check(r.args.includes('--fail-on-drift') && r.args.includes('--reference=r.csv') &&
    !r.args.some((a) => a.startsWith('--config')), 'packaged task: empty inputs are not passed');

  // 10. The real amlops-lint: its ##vso output variables come through, with the camelCase alias.
  r = await runTask('lint', { command: 'check', path: 'repo', noHistory: 'true', sarifFile: 'real.sarif',
    failOn: 'never', workingDirectory: WORK }, { AMLOPS_BIN_DIR: BIN }, { realBinary: true });
  check(r.tr.succeeded && fs.existsSync(path.join(WORK, 'real.sarif')), 'real amlops-lint: succeeds, writes SARIF');
  check(/variable=findings;isoutput=true/i.test(r.log) &&
    /variable=sarifFile;isoutput=true/i.test(r.log), 'real amlops-lint: output variables findings and sarifFile');

  console.log(failures.length + ' failure(s)');
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
