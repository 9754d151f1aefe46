// One task run under azure-pipelines-task-lib's TaskMockRunner, with the real task library
// (noMockTask) so that the handler really spawns a binary. The scenario (inputs, and the variables
// the agent sets for endpoints and job variables) comes as JSON in AMLOPS_SCENARIO.
'use strict';
const path = require('path');
const tmrm = require('azure-pipelines-task-lib/mock-run');

const sc = JSON.parse(process.env.AMLOPS_SCENARIO);
const tmr = new tmrm.TaskMockRunner(path.join(sc.taskDir, 'index.js'));
for (const [name, value] of Object.entries(sc.inputs)) tmr.setInput(name, value);
for (const [name, value] of Object.entries(sc.env || {})) process.env[name] = value;
tmr.run(true);
